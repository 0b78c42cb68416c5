"""
Bias correction after factorizing: the mean part of each matrix's output error folded into the LSTM
bias. With inputs of mean E[x], W_r x = W x - (W - W_r) x, and the expected error (W - W_r) E[x] is a
constant per gate, so adding it to `state_linearity.bias` (the cell's only bias, shared by W_i and W_h)
makes the compressed gates right on average; the remaining error is (W - W_r)(x - E[x]).
"""

import dataclasses
from typing import Mapping

import torch

from elmo_compress.constants import MATRIX_TARGETS, MatrixKey
from elmo_compress.weights import ElmoWeights


def correct_biases(
    original: ElmoWeights, compressed: ElmoWeights, means: Mapping[MatrixKey, torch.Tensor]
) -> ElmoWeights:
    """
    A copy of `compressed` whose LSTM biases include sum over targets of (W - W_r) E[x].

    # Parameters

    original : `ElmoWeights`
        The uncompressed biLM `compressed` was made from.
    compressed : `ElmoWeights`
    means : `Mapping[Tuple[int, int, str], torch.Tensor]`
        E[x] of every matrix's inputs, shape (n,) (`InputStatistics.means`).

    # Returns

    corrected : `ElmoWeights`
    """
    lstm = {}
    cell_size = compressed.options.cell_dim
    for layer, direction in compressed.cells():
        # shape: (4 * cell,), allennlp's gate order
        shift = torch.zeros(4 * cell_size, dtype=torch.float64)
        for target in MATRIX_TARGETS:
            error = (
                original.matrix(layer, direction, target).to_dense().double()
                - compressed.matrix(layer, direction, target).to_dense().double()
            )
            shift += error @ means[(layer, direction, target)].double()
        cell = compressed.cell(layer, direction)
        bias = (cell.bias.double() + shift).to(cell.bias.dtype)
        lstm[(layer, direction)] = dataclasses.replace(cell, bias=bias)
    return ElmoWeights(compressed.options, compressed.char_encoder, lstm, compressed.metadata)
