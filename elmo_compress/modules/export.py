"""
From modules back to weights: the `ElmoWeights` an in-memory `_ElmoBiLm` holds, e.g. after training
(saved as an official file, or in the compressed format when any LSTM matrix is compressed).
"""

from typing import Any, Dict, Optional, Tuple

import torch
from allennlp.modules.elmo import _ElmoBiLm

from elmo_compress.constants import DIRECTIONS, MATRIX_TARGETS
from elmo_compress.modules.forms import as_linear_form
from elmo_compress.modules.surgery import lstm_cells
from elmo_compress.weights import CharEncoderWeights, ElmoOptions, ElmoWeights, LstmCellWeights
from elmo_compress.weights.layout import TARGET_ATTRIBUTES, CellKey, without_forget_bias


def weights_from_bilm(
    bilm: _ElmoBiLm, options: ElmoOptions, metadata: Optional[Dict[str, Any]] = None
) -> ElmoWeights:
    """
    Every weight of `bilm` (for example after training) as `ElmoWeights`, copied: the torch form needs
    no layout conversion. `metadata` is recorded when any LSTM matrix is compressed.

    Two things a file cannot hold are normalized: the forget-gate bias loses allennlp's +1 (so a bias
    that is not `b + 1` for a float32 `b` moves by one unit in the last place), and the character
    embedding's padding row is stored as allennlp loads it, zero.
    """
    encoder = bilm._token_embedder

    def copy(tensor: torch.Tensor) -> torch.Tensor:
        return tensor.detach().float().clone()

    embedding = copy(encoder._char_embedding_weights)
    embedding[0] = 0
    char_encoder = CharEncoderWeights(
        char_embedding=embedding,
        convolutions=[(copy(conv.weight), copy(conv.bias)) for conv in encoder._convolutions],
        highways=[(copy(layer.weight), copy(layer.bias)) for layer in encoder._highways._layers],
        projection=(copy(encoder._projection.weight), copy(encoder._projection.bias)),
    )
    lstm: Dict[CellKey, LstmCellWeights] = {}
    for layer, direction, cell in lstm_cells(bilm._elmo_lstm):
        input_matrix, recurrent_matrix = (
            as_linear_form(getattr(cell, TARGET_ATTRIBUTES[target])).to_matrix() for target in MATRIX_TARGETS
        )
        lstm[(layer, direction)] = LstmCellWeights(
            input=input_matrix,
            recurrent=recurrent_matrix,
            bias=without_forget_bias(cell.state_linearity.bias, options.cell_dim),
            projection=copy(cell.state_projection.weight),
        )
    weights = ElmoWeights(options, char_encoder, lstm)
    if weights.is_compressed:
        weights.metadata = dict(metadata or {})
    return weights


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
