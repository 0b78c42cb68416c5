"""
`InputStatistics`: per LSTM matrix of a biLM, the uncentered second moment E[x x^T] and the mean E[x]
of its inputs on calibration text, and the file that holds them (npz, written atomically). Reading
them needs numpy and torch only (no allennlp), so `compress_weights` can load a statistics file that a
compression block names.
"""

import hashlib
import io
import json
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Sequence, Tuple

import numpy
import torch

from elmo_compress.constants import DIRECTIONS, MatrixKey
from elmo_compress.errors import ElmoCompressError
from elmo_compress.outputs import atomic_write_bytes

STATISTICS_FORMAT = "elmo_compress/input-statistics"
STATISTICS_FORMAT_VERSION = 1


class StatisticsError(ElmoCompressError):
    """A calibration statistics file that cannot be used (unreadable, other weights, other shapes)."""


def lstm_sha256(cells: Mapping[Tuple[int, int], Sequence[torch.Tensor]]) -> str:
    """
    sha256 of a biLM's LSTM cells in allennlp's convention: per (layer, direction), in order, W_i, W_h,
    the bias and the projection (float32 bytes). The same from a weights file (`ElmoWeights.cell`) and
    from a loaded biLM (its modules), so statistics can be checked against either.
    """
    digest = hashlib.sha256()
    for layer, direction in sorted(cells):
        for tensor in cells[(layer, direction)]:
            array = numpy.ascontiguousarray(tensor.detach().to(torch.float32).numpy())
            digest.update(f"{layer}/{direction}\0{array.shape}\0".encode("utf-8"))
            digest.update(array.tobytes())
    return digest.hexdigest()


def weights_lstm_sha256(weights: Any) -> str:
    """`lstm_sha256` of an uncompressed `ElmoWeights`."""
    cells = {}
    for layer, direction in weights.cells():
        cell = weights.cell(layer, direction)
        cells[(layer, direction)] = (cell.input.to_dense(), cell.recurrent.to_dense(), cell.module_bias(), cell.projection)
    return lstm_sha256(cells)


def statistics_key(weights_digest: str, text_digest: str, settings: Mapping[str, Any]) -> str:
    """The cache key of one calibration: sha256 of the weights', text's digests and the settings."""
    record = json.dumps(
        {"weights": weights_digest, "text": text_digest, "settings": dict(settings)}, sort_keys=True
    )
    return hashlib.sha256(record.encode("utf-8")).hexdigest()


def _array_name(key: MatrixKey, kind: str) -> str:
    layer, direction, target = key
    return f"{kind}/layer{layer}/{DIRECTIONS[direction]}/{target}"


@dataclass
class InputStatistics:
    """
    What calibration measured about the inputs of every LSTM input (W_i) and recurrent (W_h) matrix.

    # Parameters

    second_moments : `Dict[Tuple[int, int, str], torch.Tensor]`
        (layer, direction, target) -> E[x x^T], shape (n, n), float64.
    means : `Dict[Tuple[int, int, str], torch.Tensor]`
        (layer, direction, target) -> E[x], shape (n,), float64.
    counts : `Dict[Tuple[int, int, str], int]`
        How many input vectors each was averaged over.
    weights_sha256 : `str`
        `lstm_sha256` of the biLM the inputs came from.
    text_sha256 : `str`
        `text_sha256` of the calibration sentences.
    settings : `Dict[str, Any]`
        How they were collected (sentences, batch size, ...).
    """

    second_moments: Dict[MatrixKey, torch.Tensor]
    means: Dict[MatrixKey, torch.Tensor]
    counts: Dict[MatrixKey, int]
    weights_sha256: str
    text_sha256: str
    settings: Dict[str, Any]

    @property
    def key(self) -> str:
        return statistics_key(self.weights_sha256, self.text_sha256, self.settings)

    def check_matches(self, lstm_digest: str, where: str = "input statistics") -> None:
        """Refuse statistics of other weights (`lstm_digest`: `lstm_sha256` of the biLM being compressed)."""
        if lstm_digest != self.weights_sha256:
            raise StatisticsError(
                f"{where} were computed from other weights (LSTM sha256 {self.weights_sha256[:12]}...)"
            )

    def to_bytes(self) -> bytes:
        arrays = {}
        for key in sorted(self.second_moments):
            arrays[_array_name(key, "second_moment")] = self.second_moments[key].numpy()
            arrays[_array_name(key, "mean")] = self.means[key].numpy()
            arrays[_array_name(key, "count")] = numpy.array(self.counts[key], dtype=numpy.int64)
        header = {
            "format": STATISTICS_FORMAT,
            "format_version": STATISTICS_FORMAT_VERSION,
            "weights_sha256": self.weights_sha256,
            "text_sha256": self.text_sha256,
            "settings": self.settings,
            "matrices": [list(key) for key in sorted(self.second_moments)],
        }
        arrays["header"] = numpy.array(json.dumps(header, sort_keys=True))
        buffer = io.BytesIO()
        numpy.savez(buffer, **arrays)
        return buffer.getvalue()

    def save(self, path: str) -> None:
        """Write the statistics file atomically (a cache others may be reading)."""
        atomic_write_bytes(path, self.to_bytes())

    @classmethod
    def load(cls, path: str) -> "InputStatistics":
        """Read a statistics file; anything else is one `StatisticsError` line."""
        try:
            with numpy.load(path, allow_pickle=False) as archive:
                arrays = {name: archive[name] for name in archive.files}
            header = json.loads(str(arrays["header"]))
        except FileNotFoundError:
            raise StatisticsError(f"statistics file not found: {path}") from None
        except (OSError, ValueError, KeyError, EOFError) as error:
            raise StatisticsError(
                f"{path} is not a calibration statistics file ({type(error).__name__})"
            ) from None
        if header.get("format") != STATISTICS_FORMAT or header.get("format_version") != STATISTICS_FORMAT_VERSION:
            raise StatisticsError(
                f"{path} is not a calibration statistics file of version {STATISTICS_FORMAT_VERSION}"
            )
        keys: List[MatrixKey] = [
            (int(layer), int(direction), str(target)) for layer, direction, target in header["matrices"]
        ]
        try:
            return cls(
                second_moments={key: torch.from_numpy(arrays[_array_name(key, "second_moment")]) for key in keys},
                means={key: torch.from_numpy(arrays[_array_name(key, "mean")]) for key in keys},
                counts={key: int(arrays[_array_name(key, "count")]) for key in keys},
                weights_sha256=header["weights_sha256"],
                text_sha256=header["text_sha256"],
                settings=header["settings"],
            )
        except KeyError as missing:
            raise StatisticsError(f"statistics file {path} lacks {missing}") from None

    def check_shapes(self, shapes: Mapping[MatrixKey, Sequence[int]], where: str = "input statistics") -> None:
        """Refuse statistics whose matrices or dimensions differ from `shapes` ((layer, direction, target) -> (m, n))."""
        for key, (_, columns) in sorted(shapes.items()):
            moment = self.second_moments.get(key)
            if moment is None or tuple(moment.shape) != (columns, columns):
                layer, direction, target = key
                got = "none" if moment is None else f"{tuple(moment.shape)}"
                raise StatisticsError(
                    f"{where} do not fit this biLM: layer {layer} {DIRECTIONS[direction]} {target} needs "
                    f"({columns}, {columns}), the file has {got}"
                )


def load_statistics_for(path: str, lstm_digest: str, shapes: Mapping[MatrixKey, Sequence[int]]) -> InputStatistics:
    """A statistics file checked against the biLM's matrix shapes and `lstm_sha256`."""
    statistics = InputStatistics.load(path)
    statistics.check_shapes(shapes, where=f"statistics file {path}")
    statistics.check_matches(lstm_digest, where=f"statistics file {path}")
    return statistics
