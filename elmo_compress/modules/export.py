"""
From modules back to weights: the `ElmoWeights` (official layout, or the compressed format when
any LSTM matrix is compressed) that an in-memory `_ElmoBiLm` holds, e.g. after training.
"""

from typing import Any, Dict, Optional, Tuple

import numpy
import torch
from allennlp.modules.elmo import _ElmoBiLm

from elmo_compress.constants import DIRECTIONS, MATRIX_TARGETS
from elmo_compress.factorize import CompressedMatrix
from elmo_compress.modules.forms import as_linear_form
from elmo_compress.modules.surgery import lstm_cells
from elmo_compress.weights import ElmoOptions, ElmoWeights, LstmCellWeights, MatrixKey
from elmo_compress.weights.elmo_weights import expected_shapes
from elmo_compress.weights.layout import TARGET_ATTRIBUTES, torch_char_encoder_to_tf


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
        for target in MATRIX_TARGETS:
            matrices[(layer, direction, target)] = as_linear_form(getattr(cell, TARGET_ATTRIBUTES[target])).to_matrix()
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


def bilm_layout(bilm: _ElmoBiLm) -> Dict[str, Any]:
    """
    `ElmoWeights.layout()` of an in-memory biLM without converting its weights: the rows of the character
    embedding (without allennlp's padding row) and each LSTM matrix's method and rank.
    """
    matrices = []
    for layer, direction, cell in lstm_cells(bilm._elmo_lstm):
        for target in MATRIX_TARGETS:
            matrix = as_linear_form(getattr(cell, TARGET_ATTRIBUTES[target])).to_matrix()
            entry = {"layer": layer, "direction": DIRECTIONS[direction], "target": target}
            matrices.append({**entry, "method": matrix.method, "rank": matrix.rank})
    rows = int(bilm._token_embedder._char_embedding_weights.shape[0]) - 1
    return {"char_embed_rows": rows, "matrices": matrices}


def bilm_parameter_counts(bilm: _ElmoBiLm) -> Tuple[int, int]:
    """
    (every number the biLM stores, the LSTM W_i + W_h share of them), counted as
    `ElmoWeights.num_parameters()` counts a weights file: the character embedding without allennlp's
    all-zero padding row, each LSTM matrix as its form stores it (factors, kept entries).
    """
    encoder = bilm._token_embedder
    embedding = encoder._char_embedding_weights
    total = (embedding.shape[0] - 1) * embedding.shape[1]
    layers = [*encoder._convolutions, *encoder._highways._layers, encoder._projection]
    total += sum(layer.weight.numel() + layer.bias.numel() for layer in layers)
    matrices = 0
    for _, _, cell in lstm_cells(bilm._elmo_lstm):
        total += cell.state_linearity.bias.numel() + cell.state_projection.weight.numel()
        matrices += sum(
            as_linear_form(getattr(cell, TARGET_ATTRIBUTES[target])).num_stored_parameters() for target in MATRIX_TARGETS
        )
    return total + matrices, matrices
