"""
In-place surgery on allennlp's `ElmoLstm`: put dense, low-rank or pruned linear layers in place of
each `LstmCellWithProjection`'s `input_linearity` (W_i) and `state_linearity` (W_h).
"""

from typing import Dict, Iterator, List, Optional, Tuple

import torch
from allennlp.modules.elmo import _ElmoBiLm
from allennlp.modules.elmo_lstm import ElmoLstm
from allennlp.modules.lstm_cell_with_projection import LstmCellWithProjection

from elmo_compress.errors import CompressionSpecError
from elmo_compress.factorize import CompressedMatrix, CompressionSpec
from elmo_compress.modules.low_rank_linear import LowRankLinear
from elmo_compress.modules.pruned_linear import PrunedLinear
from elmo_compress.weights import ElmoWeights, MatrixKey, MatrixReport, compress_lstm_matrices
from elmo_compress.weights.layout import TARGET_ATTRIBUTES, TARGETS, cell_module_name


def lstm_cells(elmo_lstm: ElmoLstm) -> Iterator[Tuple[int, int, LstmCellWithProjection]]:
    """Yield `(layer, direction, cell)` for every cell, direction 0 forward and 1 backward."""
    for layer in range(elmo_lstm.num_layers):
        for direction in (0, 1):
            yield layer, direction, getattr(elmo_lstm, cell_module_name(layer, direction))


def linear_from_matrix(
    matrix: CompressedMatrix,
    bias: Optional[torch.Tensor] = None,
    max_iterations: int = 300,
    tolerance: float = 1e-5,
) -> torch.nn.Module:
    """A `Linear`, `LowRankLinear` or `PrunedLinear` computing `x @ matrix^T + bias`."""
    if matrix.method in ("svd", "semi_nmf"):
        return LowRankLinear.from_factors(
            matrix.left,
            matrix.right,
            bias,
            method=matrix.method,
            max_iterations=max_iterations,
            tolerance=tolerance,
        )
    if matrix.method == "prune":
        return PrunedLinear(matrix.weight, matrix.weight != 0, bias, rank=matrix.rank)
    out_features, in_features = matrix.shape
    linear = torch.nn.Linear(in_features, out_features, bias=bias is not None)
    with torch.no_grad():
        linear.weight.copy_(matrix.weight)
        if bias is not None:
            linear.bias.copy_(bias)
    return linear


def _set_requires_grad(module: torch.nn.Module, requires_grad: bool) -> None:
    for parameter in module.parameters():
        parameter.requires_grad = requires_grad


def replace_cell_matrices(
    elmo_lstm: ElmoLstm,
    matrices: Dict[MatrixKey, CompressedMatrix],
    biases: Dict[Tuple[int, int], torch.Tensor],
    requires_grad: bool,
    max_iterations: int = 300,
    tolerance: float = 1e-5,
) -> None:
    """Replace `input_linearity` / `state_linearity` of every cell named in `matrices`, in place."""
    for layer, direction, cell in lstm_cells(elmo_lstm):
        for target in TARGETS:
            matrix = matrices.get((layer, direction, target))
            if matrix is None:
                continue
            bias = biases[(layer, direction)] if target == "recurrent" else None
            linear = linear_from_matrix(matrix, bias, max_iterations, tolerance)
            _set_requires_grad(linear, requires_grad)
            setattr(cell, TARGET_ATTRIBUTES[target], linear)


def load_lstm_weights(elmo_lstm: ElmoLstm, weights: ElmoWeights, requires_grad: bool = False) -> None:
    """
    Load every cell of `weights` (official or compressed) into `elmo_lstm`, as allennlp's
    `ElmoLstm.load_weights` does for an official file, with compressed layers where `weights` has them.
    """
    matrices = {
        (layer, direction, target): weights.matrix(layer, direction, target)
        for layer, direction in weights.cells()
        for target in TARGETS
    }
    biases = {}
    for layer, direction, cell in lstm_cells(elmo_lstm):
        biases[(layer, direction)], projection = weights.cell_bias_and_projection(layer, direction)
        with torch.no_grad():
            cell.state_projection.weight.copy_(projection)
        cell.state_projection.weight.requires_grad = requires_grad
    compression = weights.metadata.get("compression", {})
    replace_cell_matrices(
        elmo_lstm,
        matrices,
        biases,
        requires_grad,
        max_iterations=compression.get("max_iterations", 300),
        tolerance=compression.get("tolerance", 1e-5),
    )


def compress_elmo_bilm(bilm: _ElmoBiLm, spec: CompressionSpec) -> List[MatrixReport]:
    """
    Compress a loaded `_ElmoBiLm` in place: each targeted `input_linearity` / `state_linearity`
    becomes a `LowRankLinear` or `PrunedLinear` computed from its current weight.

    # Returns

    `List[MatrixReport]`, one row per matrix (untargeted ones reported as dense).
    """
    elmo_lstm = bilm._elmo_lstm
    current: Dict[MatrixKey, torch.Tensor] = {}
    biases: Dict[Tuple[int, int], torch.Tensor] = {}
    for layer, direction, cell in lstm_cells(elmo_lstm):
        for target in TARGETS:
            linear = getattr(cell, TARGET_ATTRIBUTES[target])
            if not isinstance(linear, torch.nn.Linear):
                name = f"{cell_module_name(layer, direction)}.{TARGET_ATTRIBUTES[target]}"
                raise CompressionSpecError(f"{name} is already compressed")
            current[(layer, direction, target)] = linear.weight
        biases[(layer, direction)] = cell.state_linearity.bias.detach()
    compressed, reports = compress_lstm_matrices(current, spec)
    targeted = {key: matrix for key, matrix in compressed.items() if matrix.method != "dense"}
    requires_grad = elmo_lstm.requires_grad
    replace_cell_matrices(elmo_lstm, targeted, biases, requires_grad, spec.max_iterations, spec.tolerance)
    return reports
