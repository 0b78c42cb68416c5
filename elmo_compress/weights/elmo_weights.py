"""
`ElmoWeights`: a whole ELMo biLM in memory, read from an official `weights.hdf5` or from the
compressed weights file of `elmo_compress` (format in docs/compressed_weights_format.md).
"""

import hashlib
import json
from typing import Any, Dict, Iterator, Mapping, Optional, Tuple

import numpy
import torch

from elmo_compress.constants import DIRECTIONS, MATRIX_TARGETS, MatrixKey
from elmo_compress.errors import ElmoCompressError, ElmoWeightsError
from elmo_compress.factorize import CompressedMatrix, dense_matrix, method_form
from elmo_compress.factorize.checks import is_int
from elmo_compress.version import VERSION
from elmo_compress.weights.hdf5_io import Attributes, Datasets, read_hdf5, write_hdf5
from elmo_compress.weights import layout
from elmo_compress.weights.layout import CellKey, CharEncoderWeights, LstmCellWeights, cell_group
from elmo_compress.weights.options import ElmoOptions

COMPRESSED_FORMAT = "elmo_compress/compressed-weights"
COMPRESSED_FORMAT_VERSION = 1
COMPRESSED_GROUP = "compressed_lstm"


def compressed_matrix_group(layer: int, direction: int, target: str) -> str:
    return f"{COMPRESSED_GROUP}/RNN_{direction}/Cell{layer}/{target}"


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as weights_file:
        for block in iter(lambda: weights_file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class ElmoWeights:
    """
    A whole ELMo biLM in memory, in torch form (allennlp's convention, see `weights.layout`): the
    character encoder and, per cell, its input and recurrent matrices (dense, or compressed as a
    `CompressedMatrix`), its bias and its projection. Read from a file once (`load`), written once
    (`save`); every stage in between works on this object or on modules built from it.

    # Parameters

    options : `ElmoOptions`
        The biLM's options; every tensor's shape is checked against them.
    char_encoder : `CharEncoderWeights`
        The character CNN, highway layers and projection.
    lstm : `Dict[Tuple[int, int], LstmCellWeights]`
        `(layer, direction)` -> that cell's weights, for every cell the options imply.
    metadata : `Dict[str, Any]`, optional
        What was done to make a compressed biLM (method, spec, seed, source, version).
    """

    def __init__(
        self,
        options: ElmoOptions,
        char_encoder: CharEncoderWeights,
        lstm: Dict[CellKey, LstmCellWeights],
        metadata: Optional[Dict[str, Any]] = None,
    ) -> None:
        self.options = options
        self.char_encoder = char_encoder
        self.lstm = lstm
        self.metadata = metadata or {}
        check_memory_shapes(self)

    @property
    def is_compressed(self) -> bool:
        """Whether any LSTM matrix is stored compressed (such a biLM is saved in the compressed format)."""
        return any(matrix.method != "dense" for matrix in self.matrices.values())

    @property
    def matrices(self) -> Dict[MatrixKey, CompressedMatrix]:
        """`(layer, direction, target)` -> matrix, for every cell and target."""
        return {(*key, target): cell.matrix(target) for key, cell in sorted(self.lstm.items()) for target in MATRIX_TARGETS}

    def cells(self) -> Iterator[CellKey]:
        """All `(layer, direction)` pairs."""
        for layer in range(self.options.num_layers):
            for direction in (0, 1):
                yield layer, direction

    def cell(self, layer: int, direction: int) -> LstmCellWeights:
        """One cell's weights."""
        return self.lstm[(layer, direction)]

    def matrix(self, layer: int, direction: int, target: str) -> CompressedMatrix:
        """The input (W_i) or recurrent (W_h) matrix of one cell."""
        return self.lstm[(layer, direction)].matrix(target)

    def num_parameters(self) -> int:
        """Stored numbers, as a weights file stores them: every array, each matrix in its stored form."""
        lstm = sum(cell.bias.numel() + cell.projection.numel() for cell in self.lstm.values())
        return self.char_encoder.num_parameters() + lstm + sum(matrix.num_parameters() for matrix in self.matrices.values())

    def layout(self) -> Dict[str, Any]:
        """
        What the biLM stores, exactly, without the numbers: the rows of `char_embed` and, per LSTM
        matrix, its method and rank. `placeholder(options, layout)` builds a biLM of the same shapes
        (a compressed archive's config holds it, so the archive loads without any weights file).
        """
        matrices = [
            {"layer": layer, "direction": DIRECTIONS[direction], "target": target, "method": matrix.method, "rank": matrix.rank}
            for (layer, direction, target), matrix in self.matrices.items()
        ]
        return {"char_embed_rows": int(self.char_encoder.char_embedding.shape[0]) - 1, "matrices": matrices}

    @classmethod
    def placeholder(cls, options: ElmoOptions, layout: Dict[str, Any]) -> "ElmoWeights":
        """
        A biLM of the shapes and stored forms `layout` (from `layout()`) gives, every number zero: the
        structure a state dict is then loaded into.
        """
        return placeholder_weights(options, layout)

    def compressed(self, matrices: Mapping[MatrixKey, CompressedMatrix], metadata: Dict[str, Any]) -> "ElmoWeights":
        """A copy whose LSTM matrices are `matrices` (every cell and target), with `metadata`; all else shared."""
        lstm = {
            key: cell.with_matrices(matrices[(*key, "input")], matrices[(*key, "recurrent")])
            for key, cell in self.lstm.items()
        }
        return ElmoWeights(self.options, self.char_encoder, lstm, metadata)

    @classmethod
    def load(cls, options_file: str, weight_file: str) -> "ElmoWeights":
        """Read and check an official ELMo weights file or a compressed one (told apart by its attributes)."""
        return cls.from_file(ElmoOptions.from_file(options_file), weight_file)

    @classmethod
    def from_file(cls, options: ElmoOptions, weight_file: str) -> "ElmoWeights":
        """`load` with the options already read."""
        datasets, attributes = read_hdf5(weight_file)
        root = attributes.get("/", {})
        if root.get("format") != COMPRESSED_FORMAT:
            return cls.from_datasets(options, datasets)
        return _from_compressed_file(options, datasets, attributes, weight_file)

    @classmethod
    def from_datasets(
        cls,
        options: ElmoOptions,
        datasets: Datasets,
        matrices: Optional[Mapping[MatrixKey, CompressedMatrix]] = None,
        metadata: Optional[Dict[str, Any]] = None,
    ) -> "ElmoWeights":
        """
        A biLM from a file's datasets (TensorFlow layout; for a compressed file without its
        `compressed_lstm` groups, whose `matrices` are given), checked against the options and
        converted to torch form once.
        """
        check_file_shapes(options, datasets, compressed=matrices is not None)
        encoder, lstm = layout.file_to_torch(
            datasets, len(options.filters), options.num_highway, options.num_layers, options.projection_dim, matrices
        )
        return cls(options, encoder, lstm, metadata)

    def save(self, path: str) -> None:
        """Write an official weights file, or the compressed format for a compressed biLM."""
        datasets = layout.torch_to_file(self.char_encoder, self.lstm, with_w_0=not self.is_compressed)
        if not self.is_compressed:
            write_hdf5(path, datasets, {})
            return
        attributes: Attributes = {"/": _root_attributes(self.metadata)}
        for (layer, direction, target), matrix in self.matrices.items():
            group = compressed_matrix_group(layer, direction, target)
            datasets.update({f"{group}/{name}": array for name, array in _matrix_arrays(matrix).items()})
            attributes[group] = {
                "method": matrix.method,
                "rank": -1 if matrix.rank is None else matrix.rank,
                "shape": numpy.array(matrix.shape, dtype=numpy.int64),
                "parameters": matrix.num_parameters(),
                "layer": layer,
                "direction": direction,
                "target": target,
                "seed": int(self.metadata.get("seed", 0)),
            }
        write_hdf5(path, datasets, attributes)


def _root_attributes(metadata: Dict[str, Any]) -> Dict[str, Any]:
    return {
        "format": COMPRESSED_FORMAT,
        "format_version": COMPRESSED_FORMAT_VERSION,
        "elmo_compress_version": VERSION,
        "metadata": json.dumps(metadata, sort_keys=True),
    }


def _matrix_arrays(matrix: CompressedMatrix) -> Dict[str, numpy.ndarray]:
    return {name: tensor.numpy() for name, tensor in matrix.stored_arrays().items()}


def _matrix_from_arrays(arrays: Dict[str, numpy.ndarray], attributes: Dict[str, Any]) -> CompressedMatrix:
    tensors = {name: torch.from_numpy(array) for name, array in arrays.items()}
    shape = tuple(int(size) for size in attributes["shape"])
    rank = int(attributes["rank"])
    return CompressedMatrix.from_stored_arrays(str(attributes["method"]), shape, None if rank < 0 else rank, tensors)


def _from_compressed_file(
    options: ElmoOptions, datasets: Datasets, attributes: Attributes, weight_file: str
) -> ElmoWeights:
    version = attributes["/"].get("format_version")
    if version != COMPRESSED_FORMAT_VERSION:
        raise ElmoWeightsError(
            f"compressed weights file {weight_file} has format version {version}, "
            f"this elmo_compress reads version {COMPRESSED_FORMAT_VERSION}"
        )
    matrices: Dict[MatrixKey, CompressedMatrix] = {}
    plain: Datasets = {}
    for name, array in datasets.items():
        if not name.startswith(COMPRESSED_GROUP + "/"):
            plain[name] = array
    for layer in range(options.num_layers):
        for direction in (0, 1):
            for target in MATRIX_TARGETS:
                group = compressed_matrix_group(layer, direction, target)
                if group not in attributes:
                    raise ElmoWeightsError(f"compressed weights file {weight_file} lacks group {group}")
                arrays = {
                    name[len(group) + 1 :]: array
                    for name, array in datasets.items()
                    if name.startswith(group + "/")
                }
                try:
                    matrices[(layer, direction, target)] = _matrix_from_arrays(arrays, attributes[group])
                except KeyError as missing:
                    raise ElmoWeightsError(
                        f"compressed weights file {weight_file}: group {group} lacks {missing}"
                    ) from None
                except (ElmoCompressError, ValueError, TypeError) as error:
                    raise ElmoWeightsError(f"compressed weights file {weight_file}: group {group}: {error}") from None
    extra = sorted({name.rsplit("/", 1)[0] for name in datasets if name.startswith(COMPRESSED_GROUP + "/")} - {
        compressed_matrix_group(*key) for key in matrices
    })
    if extra:
        raise ElmoWeightsError(f"compressed weights file {weight_file} has {extra[0]}, which its options do not imply")
    return ElmoWeights.from_datasets(options, plain, matrices, _metadata(attributes["/"], weight_file))


def _metadata(root: Dict[str, Any], weight_file: str) -> Dict[str, Any]:
    text = root.get("metadata", "{}")
    try:
        metadata = json.loads(text.decode("utf-8") if isinstance(text, bytes) else text)
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError) as error:
        raise ElmoWeightsError(f"compressed weights file {weight_file}: its metadata is not JSON ({error})") from None
    if not isinstance(metadata, dict):
        raise ElmoWeightsError(f"compressed weights file {weight_file}: its metadata must be a JSON object")
    return metadata


def _placeholder_matrix(entry: Dict[str, Any], shape: Tuple[int, int]) -> CompressedMatrix:
    method, rank = entry.get("method"), entry.get("rank")
    zeros = torch.zeros(shape)
    if method == "dense":
        return dense_matrix(zeros)
    form = method_form(method)
    if not is_int(rank) or not 1 <= rank <= min(shape):
        raise ElmoWeightsError(f"layout entry {entry}: rank must be an int from 1 to {min(shape)}")
    if form == "factors":
        return CompressedMatrix(method, shape, rank, left=torch.zeros(shape[0], rank), right=torch.zeros(rank, shape[1]))
    return CompressedMatrix(method, shape, rank, weight=zeros, n_kept=0)


def placeholder_weights(options: ElmoOptions, layout: Dict[str, Any]) -> ElmoWeights:
    """See `ElmoWeights.placeholder`; a layout that does not fit the options is one `ElmoWeightsError`."""
    try:
        rows, entries = int(layout["char_embed_rows"]), list(layout["matrices"])
        by_key = {(int(e["layer"]), DIRECTIONS.index(e["direction"]), str(e["target"])): e for e in entries}
    except (KeyError, TypeError, ValueError) as error:
        raise ElmoWeightsError(f"a biLM layout needs char_embed_rows and matrices (layer, direction, target, method, rank): {error}") from None
    keys = {(layer, direction, target) for layer in range(options.num_layers) for direction in (0, 1) for target in MATRIX_TARGETS}
    if set(by_key) != keys or len(entries) != len(keys):
        raise ElmoWeightsError(f"a biLM layout must list each of the {len(keys)} LSTM matrices once")
    datasets = {name: numpy.zeros(shape, dtype=numpy.float32) for name, shape in expected_shapes(options, True).items()}
    datasets["char_embed"] = numpy.zeros((rows, options.char_embedding_dim), dtype=numpy.float32)
    shape = (4 * options.cell_dim, options.projection_dim)
    try:
        matrices = {key: _placeholder_matrix(entry, shape) for key, entry in by_key.items()}
    except ElmoCompressError as error:
        raise ElmoWeightsError(f"biLM layout: {error}") from None
    return ElmoWeights.from_datasets(options, datasets, matrices, {"layout": layout})


def expected_shapes(options: ElmoOptions, compressed: bool) -> Dict[str, Tuple[int, ...]]:
    """hdf5 dataset path -> shape implied by the options (char_embed is checked on its own)."""
    shapes: Dict[str, Tuple[int, ...]] = {}
    for i, (width, number) in enumerate(options.filters):
        shapes[f"CNN/W_cnn_{i}"] = (1, width, options.char_embedding_dim, number)
        shapes[f"CNN/b_cnn_{i}"] = (number,)
    filters = options.num_filters
    for k in range(options.num_highway):
        for name in ("W_carry", "W_transform"):
            shapes[f"CNN_high_{k}/{name}"] = (filters, filters)
        for name in ("b_carry", "b_transform"):
            shapes[f"CNN_high_{k}/{name}"] = (filters,)
    shapes["CNN_proj/W_proj"] = (filters, options.projection_dim)
    shapes["CNN_proj/b_proj"] = (options.projection_dim,)
    gates = 4 * options.cell_dim
    for layer in range(options.num_layers):
        for direction in (0, 1):
            group = cell_group(layer, direction)
            if not compressed:
                shapes[f"{group}/W_0"] = (2 * options.projection_dim, gates)
            shapes[f"{group}/B"] = (gates,)
            shapes[f"{group}/W_P_0"] = (options.cell_dim, options.projection_dim)
    return shapes


def check_file_shapes(options: ElmoOptions, datasets: Mapping[str, numpy.ndarray], compressed: bool) -> None:
    """Raise `ElmoWeightsError` naming the first dataset of a file that does not fit the options."""
    mismatch = "options/weights mismatch: {name} is {actual}, but the options imply {expected}"
    char_embed = datasets.get("char_embed")
    if char_embed is None:
        raise ElmoWeightsError("weights lack dataset char_embed")
    # allennlp prepends a padding row; character ids after its +1 shift go up to 261.
    if char_embed.ndim != 2 or char_embed.shape[1] != options.char_embedding_dim or char_embed.shape[0] < 261:
        expected = f"(>= 261, {options.char_embedding_dim})"
        raise ElmoWeightsError(mismatch.format(name="char_embed", actual=char_embed.shape, expected=expected))
    expected_names = set(expected_shapes(options, compressed)) | {"char_embed"}
    unexpected = sorted(set(datasets) - expected_names)
    if unexpected:
        raise ElmoWeightsError(
            f"options/weights mismatch: the weights have {unexpected[0]}, which the options do not imply "
            "(n_highway, n_layers or filters differ?)"
        )
    for name, expected in expected_shapes(options, compressed).items():
        if name not in datasets:
            raise ElmoWeightsError(f"weights lack dataset {name} that the options imply")
        actual = tuple(datasets[name].shape)
        if actual != expected:
            raise ElmoWeightsError(mismatch.format(name=name, actual=actual, expected=expected))


def check_memory_shapes(weights: ElmoWeights) -> None:
    """Raise `ElmoWeightsError` naming the first tensor of a biLM in memory that does not fit its options."""
    options = weights.options
    mismatch = "options/weights mismatch: {name} is {actual}, but the options imply {expected}"
    expected_cells = set(weights.cells())
    if set(weights.lstm) != expected_cells:
        raise ElmoWeightsError(f"the biLM has cells {sorted(weights.lstm)}, but the options imply {sorted(expected_cells)}")
    gates, hidden, cell = 4 * options.cell_dim, options.projection_dim, options.cell_dim
    embedding = weights.char_encoder.char_embedding
    if embedding.dim() != 2 or embedding.shape[1] != options.char_embedding_dim or embedding.shape[0] < 262:
        expected = f"(>= 262, {options.char_embedding_dim})"
        raise ElmoWeightsError(mismatch.format(name="char_embedding", actual=tuple(embedding.shape), expected=expected))
    for (layer, direction), weights_of_cell in sorted(weights.lstm.items()):
        expected_shapes_of_cell = {
            "input": (gates, hidden),
            "recurrent": (gates, hidden),
            "bias": (gates,),
            "projection": (hidden, cell),
        }
        actual_shapes = {
            "input": tuple(weights_of_cell.input.shape),
            "recurrent": tuple(weights_of_cell.recurrent.shape),
            "bias": tuple(weights_of_cell.bias.shape),
            "projection": tuple(weights_of_cell.projection.shape),
        }
        for name, expected in expected_shapes_of_cell.items():
            if actual_shapes[name] != expected:
                where = f"{layout.cell_module_name(layer, direction)} {name}"
                raise ElmoWeightsError(mismatch.format(name=where, actual=actual_shapes[name], expected=expected))
