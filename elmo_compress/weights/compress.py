"""
Compressing every LSTM input / recurrent matrix of a biLM according to a `CompressionSpec`, and the
per-matrix report that goes with it. Shared by the CLI, the registered embedders and in-place surgery.
"""

from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Mapping, Optional, Tuple

import torch

from elmo_compress.errors import CompressionSpecError
from elmo_compress.factorize import CompressedMatrix, CompressionSpec, compress_matrix, dense_matrix
from elmo_compress.version import VERSION
from elmo_compress.weights.elmo_weights import ElmoWeights, MatrixKey
from elmo_compress.weights.layout import DIRECTIONS, TARGETS, matrix_name


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


def compress_lstm_matrices(
    matrices: Mapping[MatrixKey, torch.Tensor], spec: CompressionSpec
) -> Tuple[Dict[MatrixKey, CompressedMatrix], List[MatrixReport]]:
    """
    Compress each `(layer, direction, target)` matrix as `spec` says; targets it leaves out stay dense.

    # Returns

    compressed : `Dict[Tuple[int, int, str], CompressedMatrix]`
    reports : `List[MatrixReport]`, in (layer, direction, target) order.
    """
    spec.validate_layers(1 + max(layer for layer, _, _ in matrices))
    compressed: Dict[MatrixKey, CompressedMatrix] = {}
    reports: List[MatrixReport] = []
    for key in sorted(matrices):
        layer, direction, target = key
        weight = matrices[key].detach().float()
        rank_spec = spec.rank_spec_for(layer, target)
        if rank_spec is None:
            matrix = dense_matrix(weight)
        else:
            try:
                rank = rank_spec.resolve(weight)
            except CompressionSpecError as error:
                raise CompressionSpecError(f"{matrix_name(layer, direction, target)}: {error}") from None
            matrix = compress_matrix(
                weight, spec.method, rank, max_iterations=spec.max_iterations, tolerance=spec.tolerance
            )
        compressed[key] = matrix
        reports.append(
            MatrixReport(
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
        )
    return compressed, reports


def compress_weights(
    weights: ElmoWeights, spec: CompressionSpec, source: str = ""
) -> Tuple[ElmoWeights, List[MatrixReport]]:
    """Compress an uncompressed biLM; the result records the spec, the report and the source file."""
    if weights.is_compressed:
        raise CompressionSpecError(
            "these ELMo weights are already compressed; start from the original weights file"
        )
    matrices = {
        (layer, direction, target): weights.matrix(layer, direction, target).to_dense()
        for layer, direction in weights.cells()
        for target in TARGETS
    }
    compressed, reports = compress_lstm_matrices(matrices, spec)
    metadata = {
        "compression": spec.to_dict(),
        "seed": spec.seed,
        "source_weights": source,
        "elmo_compress_version": VERSION,
        "matrices": [report.to_dict() for report in reports],
    }
    return weights.compressed(compressed, metadata), reports
