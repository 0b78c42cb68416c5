"""
Compressing every LSTM input / recurrent matrix of a biLM according to a `CompressionSpec`, and the
per-matrix report that goes with it. Shared by the CLI, the registered embedders and in-place surgery.
"""

import os
from dataclasses import asdict, dataclass, replace
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

import torch

from elmo_compress.constants import DIRECTIONS, MATRIX_TARGETS, OPTIONS_NAME, WEIGHTS_NAME
from elmo_compress.errors import CompressionSpecError, ElmoCompressError
from elmo_compress.factorize import CompressedMatrix, CompressionSpec, compress_matrix, dense_matrix
from elmo_compress.methods import METHODS
from elmo_compress.outputs import OutputFolder
from elmo_compress.version import VERSION
from elmo_compress.weights.elmo_weights import ElmoWeights, MatrixKey, file_sha256
from elmo_compress.weights.layout import matrix_name


@dataclass(frozen=True)
class MatrixReport:
    """What compression did to one matrix."""

    layer: int
    direction: str
    target: str
    shape: Tuple[int, int]
    method: str
    rank: Optional[int]
    parameters_before: int
    parameters_after: int
    relative_error: float

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


class CompressionProgress:
    """What compressing a biLM reports as it goes; this base reports nothing (the CLI shows a bar)."""

    def start(self, total: int) -> None:
        """`total` matrices will be compressed."""

    def matrix(self, name: str, method: str, rank: int) -> None:
        """Compressing `name` (e.g. "layer 0 forward recurrent") starts."""

    def iteration(self, iteration: int, objective: float) -> None:
        """An iterative method (Semi-NMF) finished `iteration` with this objective."""

    def finish(self) -> None:
        """Every matrix is done."""


def resolve_ranks(matrices: Mapping[MatrixKey, torch.Tensor], spec: CompressionSpec) -> Dict[MatrixKey, Optional[int]]:
    """
    The rank of every matrix under `spec` (`None`: left dense), all checked before any is compressed;
    a rank that does not fit its matrix is one error naming the matrix.
    """
    spec.validate_layers(1 + max(layer for layer, _, _ in matrices))
    ranks: Dict[MatrixKey, Optional[int]] = {}
    for key in sorted(matrices):
        layer, direction, target = key
        rank_spec = spec.rank_spec_for(layer, target, direction)
        try:
            ranks[key] = None if rank_spec is None else rank_spec.resolve(matrices[key].detach())
        except CompressionSpecError as error:
            raise CompressionSpecError(f"{matrix_name(layer, direction, target)}: {error}") from None
    return ranks


def compress_lstm_matrices(
    matrices: Mapping[MatrixKey, torch.Tensor],
    spec: CompressionSpec,
    progress: Optional[CompressionProgress] = None,
    statistics: Optional[Mapping[MatrixKey, torch.Tensor]] = None,
) -> Tuple[Dict[MatrixKey, CompressedMatrix], List[MatrixReport]]:
    """
    Compress each `(layer, direction, target)` matrix as `spec` says; targets it leaves out stay dense.
    Every rank is resolved and checked first (`resolve_ranks`).

    # Parameters

    matrices : `Mapping[Tuple[int, int, str], torch.Tensor]`
        `(layer, direction, target)` -> the dense matrix (4 * cell, projection).
    spec : `CompressionSpec`
    progress : `CompressionProgress`, optional (default = `None`)
        Told about every matrix and every Semi-NMF iteration.
    statistics : `Mapping[Tuple[int, int, str], torch.Tensor]`, optional (default = `None`)
        Second moments of each matrix's inputs, for activation-aware methods.

    # Returns

    compressed : `Dict[Tuple[int, int, str], CompressedMatrix]`
    reports : `List[MatrixReport]`, in (layer, direction, target) order.
    """
    ranks = resolve_ranks(matrices, spec)
    progress = progress or CompressionProgress()
    progress.start(sum(rank is not None for rank in ranks.values()))
    compressed: Dict[MatrixKey, CompressedMatrix] = {}
    reports: List[MatrixReport] = []
    for key, rank in ranks.items():
        layer, direction, target = key
        weight = matrices[key].detach()
        if rank is None:
            matrix = dense_matrix(weight)
        else:
            progress.matrix(matrix_name(layer, direction, target), spec.method, rank)
            settings = replace(
                spec.settings(),
                statistics=None if statistics is None else statistics.get(key),
                on_iteration=progress.iteration,
            )
            try:
                matrix = compress_matrix(weight, spec.method, rank, settings=settings)
            except ElmoCompressError as error:
                raise CompressionSpecError(f"{matrix_name(layer, direction, target)}: {error}") from None
        compressed[key] = matrix
        reports.append(matrix_report(key, weight, matrix))
    progress.finish()
    return compressed, reports


def matrix_report(key: MatrixKey, weight: torch.Tensor, matrix: CompressedMatrix) -> MatrixReport:
    """What compressing `weight` (at `key`) into `matrix` did: shapes, rank, parameters, relative error."""
    layer, direction, target = key
    return MatrixReport(
        layer=layer,
        direction=DIRECTIONS[direction],
        target=target,
        shape=(int(weight.shape[0]), int(weight.shape[1])),
        method=matrix.method,
        rank=matrix.rank,
        parameters_before=weight.numel(),
        parameters_after=matrix.num_parameters(),
        relative_error=matrix.relative_error(weight),
    )


def compress_weights(
    weights: ElmoWeights,
    spec: CompressionSpec,
    source: str = "",
    progress: Optional[CompressionProgress] = None,
    statistics: Optional[Mapping[MatrixKey, torch.Tensor]] = None,
) -> Tuple[ElmoWeights, List[MatrixReport]]:
    """Compress an uncompressed biLM; the result records the spec, the report and the source file."""
    if weights.is_compressed:
        raise CompressionSpecError(
            "these ELMo weights are already compressed; start from the original weights file"
        )
    matrices = {
        (layer, direction, target): weights.matrix(layer, direction, target).to_dense()
        for layer, direction in weights.cells()
        for target in MATRIX_TARGETS
    }
    if statistics is None and spec.statistics is not None:
        from elmo_compress.calibration.statistics import load_statistics_for, weights_lstm_sha256

        shapes = {key: tuple(matrix.shape) for key, matrix in matrices.items()}
        statistics = load_statistics_for(spec.statistics, weights_lstm_sha256(weights), shapes).second_moments
    if statistics is None and METHODS[spec.method].needs_statistics:
        raise CompressionSpecError(
            f"method {spec.method!r} needs input statistics: give the compression block a 'statistics' file "
            "(compress-elmo compress --text FILE or --statistics FILE)"
        )
    compressed, reports = compress_lstm_matrices(matrices, spec, progress, statistics)
    metadata = {
        "compression": spec.to_dict(),
        "seed": spec.seed,
        "source_weights": source,
        "elmo_compress_version": VERSION,
        "matrices": [report.to_dict() for report in reports],
    }
    return weights.compressed(compressed, metadata), reports


def compress_files(
    options_file: str,
    weight_file: str,
    spec: CompressionSpec,
    output_dir: str,
    force: bool = False,
    progress: Optional[CompressionProgress] = None,
    statistics: Optional[Callable[[ElmoWeights], Mapping[MatrixKey, torch.Tensor]]] = None,
) -> Tuple[ElmoWeights, ElmoWeights, List[MatrixReport]]:
    """
    Compress an official biLM and write `output_dir/weights.hdf5` (compressed format) and
    `output_dir/options.json`, as a set; nothing is written on failure, and the output may not be or
    hold an input. `statistics`, given the loaded weights, returns the second moments of their
    matrices' inputs (`elmo_compress.calibration.collect.calibration_source`). Returns (original,
    compressed, reports).
    """
    inputs = (options_file, weight_file, spec.statistics)
    with OutputFolder(output_dir, inputs=inputs, names=(WEIGHTS_NAME, OPTIONS_NAME), force=force) as output:
        weights = ElmoWeights.load(options_file, weight_file)
        source = f"{os.path.basename(weight_file)} sha256:{file_sha256(weight_file)}"
        moments = None if statistics is None else statistics(weights)
        compressed, reports = compress_weights(weights, spec, source=source, progress=progress, statistics=moments)
        compressed.save(output.path(WEIGHTS_NAME))
        weights.options.save(output.path(OPTIONS_NAME))
    return weights, compressed, reports
