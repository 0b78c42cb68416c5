"""
In-place surgery on allennlp's `ElmoLstm`: put dense, low-rank or pruned linear layers in place of
each `LstmCellWithProjection`'s `input_linearity` (W_i) and `state_linearity` (W_h).
"""

from typing import Dict, Iterator, List, Optional, Tuple

import torch
from allennlp.modules.elmo import _ElmoBiLm
from allennlp.modules.elmo_lstm import ElmoLstm
from allennlp.modules.lstm_cell_with_projection import LstmCellWithProjection

from elmo_compress.constants import MATRIX_TARGETS
from elmo_compress.errors import CompressionSpecError
from elmo_compress.factorize import CompressedMatrix, CompressionSpec
from elmo_compress.modules.forms import as_linear_form, layer_from_matrix
from elmo_compress.modules.linear_form import LinearForm
from elmo_compress.weights import ElmoWeights, MatrixKey, MatrixReport, compress_lstm_matrices
from elmo_compress.weights.compress import CompressionProgress
from elmo_compress.weights.layout import TARGET_ATTRIBUTES, cell_module_name


def lstm_cells(elmo_lstm: ElmoLstm) -> Iterator[Tuple[int, int, LstmCellWithProjection]]:
    """Yield `(layer, direction, cell)` for every cell, direction 0 forward and 1 backward."""
    for layer in range(elmo_lstm.num_layers):
        for direction in (0, 1):
            yield layer, direction, getattr(elmo_lstm, cell_module_name(layer, direction))


def _set_requires_grad(module: torch.nn.Module, requires_grad: bool) -> None:
    for parameter in module.parameters():
        parameter.requires_grad = requires_grad


def replace_cell_matrices(
    elmo_lstm: ElmoLstm,
    matrices: Dict[MatrixKey, CompressedMatrix],
    biases: Dict[Tuple[int, int], torch.Tensor],
    requires_grad: bool,
) -> None:
    """Replace `input_linearity` / `state_linearity` of every cell named in `matrices`, in place."""
    for layer, direction, cell in lstm_cells(elmo_lstm):
        for target in MATRIX_TARGETS:
            matrix = matrices.get((layer, direction, target))
            if matrix is None:
                continue
            bias = biases[(layer, direction)] if target == "recurrent" else None
            linear = layer_from_matrix(matrix, bias)
            _set_requires_grad(linear, requires_grad)
            setattr(cell, TARGET_ATTRIBUTES[target], linear)


def load_lstm_weights(elmo_lstm: ElmoLstm, weights: ElmoWeights, requires_grad: bool = False) -> None:
    """
    Load every cell of `weights` (official or compressed) into `elmo_lstm`, as allennlp's
    `ElmoLstm.load_weights` does for an official file, with compressed layers where `weights` has them.
    """
    biases = {}
    for layer, direction, cell in lstm_cells(elmo_lstm):
        source = weights.cell(layer, direction)
        biases[(layer, direction)] = source.module_bias()
        with torch.no_grad():
            cell.state_projection.weight.copy_(source.projection)
        cell.state_projection.weight.requires_grad = requires_grad
    replace_cell_matrices(elmo_lstm, weights.matrices, biases, requires_grad)


def compress_elmo_bilm(
    bilm: _ElmoBiLm, spec: CompressionSpec, progress: Optional[CompressionProgress] = None
) -> List[MatrixReport]:
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
        for target in MATRIX_TARGETS:
            matrix = as_linear_form(getattr(cell, TARGET_ATTRIBUTES[target])).to_matrix()
            if matrix.method != "dense":
                name = f"{cell_module_name(layer, direction)}.{TARGET_ATTRIBUTES[target]}"
                raise CompressionSpecError(f"{name} is already compressed ({matrix.method})")
            current[(layer, direction, target)] = matrix.weight
        biases[(layer, direction)] = cell.state_linearity.bias.detach()
    statistics = None
    if spec.statistics is not None:
        from elmo_compress.calibration.statistics import load_statistics_for, lstm_sha256

        cells = {
            (layer, direction): (current[(layer, direction, "input")], current[(layer, direction, "recurrent")], biases[(layer, direction)], cell.state_projection.weight)
            for layer, direction, cell in lstm_cells(elmo_lstm)
        }
        shapes = {key: tuple(matrix.shape) for key, matrix in current.items()}
        statistics = load_statistics_for(spec.statistics, lstm_sha256(cells), shapes).second_moments
    compressed, reports = compress_lstm_matrices(current, spec, progress, statistics)
    targeted = {key: matrix for key, matrix in compressed.items() if matrix.method != "dense"}
    requires_grad = elmo_lstm.requires_grad
    replace_cell_matrices(elmo_lstm, targeted, biases, requires_grad)
    return reports


def compressed_parameters(module: torch.nn.Module) -> List[torch.nn.Parameter]:
    """The parameters that store compressed LSTM matrices (factors, kept weights) anywhere in `module`."""
    return [
        parameter
        for layer in module.modules()
        if isinstance(layer, LinearForm)
        for parameter in layer.compressed_parameters()
    ]
