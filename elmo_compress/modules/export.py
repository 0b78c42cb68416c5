"""
From modules back to weights: the `ElmoWeights` (official layout, or the compressed format when
any LSTM matrix is compressed) that an in-memory `_ElmoBiLm` holds, e.g. after training.
"""

from typing import Any, Dict, Optional

import numpy
import torch
from allennlp.modules.elmo import _ElmoBiLm

from elmo_compress.factorize import CompressedMatrix, dense_matrix
from elmo_compress.modules.low_rank_linear import LowRankLinear
from elmo_compress.modules.pruned_linear import PrunedLinear
from elmo_compress.modules.surgery import lstm_cells
from elmo_compress.weights import ElmoOptions, ElmoWeights, LstmCellWeights, MatrixKey
from elmo_compress.weights.elmo_weights import expected_shapes
from elmo_compress.weights.layout import TARGET_ATTRIBUTES, TARGETS, torch_char_encoder_to_tf


def matrix_from_linear(linear: torch.nn.Module) -> CompressedMatrix:
    """The `CompressedMatrix` a dense, low-rank or pruned linear layer holds."""
    if isinstance(linear, LowRankLinear):
        left, right = linear.left.weight.detach().clone(), linear.right.weight.detach().clone()
        return CompressedMatrix(linear.method, tuple(linear.weight().shape), linear.rank, left=left, right=right)
    if isinstance(linear, PrunedLinear):
        weight = (linear.weight * linear.mask).detach().clone()
        return CompressedMatrix("prune", tuple(weight.shape), linear.rank, weight=weight, n_kept=linear.num_kept)
    return dense_matrix(linear.weight.detach().clone())


def weights_from_bilm(
    bilm: _ElmoBiLm, options: ElmoOptions, metadata: Optional[Dict[str, Any]] = None
) -> ElmoWeights:
    """
    Every weight of `bilm` in file layout. All-dense LSTMs give an official weights file; any
    compressed matrix gives the compressed format (`metadata` is then recorded in the file).

    The TensorFlow layout cannot hold every float32 the modules can: the forget-gate bias is stored
    without allennlp's +1, so a bias that is not `b + 1` for a float32 `b` moves by one unit in the
    last place, and the character embedding's padding row is always zero. Reload the result to get
    the model the file defines.
    """
    encoder = bilm._token_embedder
    datasets = torch_char_encoder_to_tf(
        encoder._char_embedding_weights,
        [(conv.weight, conv.bias) for conv in encoder._convolutions],
        [(layer.weight, layer.bias) for layer in encoder._highways._layers],
        (encoder._projection.weight, encoder._projection.bias),
    )
    official = ElmoWeights(options, {**datasets, **_dense_lstm_placeholders(options)})
    matrices: Dict[MatrixKey, CompressedMatrix] = {}
    for layer, direction, cell in lstm_cells(bilm._elmo_lstm):
        for target in TARGETS:
            matrices[(layer, direction, target)] = matrix_from_linear(getattr(cell, TARGET_ATTRIBUTES[target]))
        official.set_cell(
            layer,
            direction,
            LstmCellWeights(
                input_weight=matrices[(layer, direction, "input")].to_dense(),
                recurrent_weight=matrices[(layer, direction, "recurrent")].to_dense(),
                bias=cell.state_linearity.bias,
                projection=cell.state_projection.weight,
            ),
        )
    if all(matrix.method == "dense" for matrix in matrices.values()):
        return official
    return official.compressed(matrices, metadata or {})


def _dense_lstm_placeholders(options: ElmoOptions) -> Dict[str, numpy.ndarray]:
    """Zero LSTM datasets of the right shapes, overwritten cell by cell with `set_cell`."""
    return {
        name: numpy.zeros(shape, dtype=numpy.float32)
        for name, shape in expected_shapes(options, compressed=False).items()
        if name.startswith("RNN_")
    }
