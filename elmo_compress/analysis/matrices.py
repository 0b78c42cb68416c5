"""
The matrices of a biLM that the analysis looks at, in PyTorch layout (output x input, as allennlp's
`Linear.weight`): every LSTM cell's W_i, W_h and projection, and, as context, the character encoder's highway
and projection matrices.
"""

from dataclasses import dataclass
from typing import List, Optional

import torch

from elmo_compress.errors import ElmoWeightsError
from elmo_compress.weights import DIRECTIONS, MATRIX_TARGETS, ElmoWeights

# Kind of each LSTM matrix: the compressible targets (W_i = "input", W_h = "recurrent") and the projection.
LSTM_KINDS = MATRIX_TARGETS + ("projection",)
KIND_LABELS = {
    "input": "W_i",
    "recurrent": "W_h",
    "projection": "W_P",
    "highway_transform": "W_transform",
    "highway_carry": "W_carry",
    "char_projection": "char-CNN projection",
}


@dataclass
class NamedMatrix:
    """
    One weight matrix and where it sits in the biLM.

    # Parameters

    kind : `str`
        A key of `KIND_LABELS`.
    weight : `torch.Tensor`
        Shape (out, in), float32 as stored.
    layer : `Optional[int]`, optional (default = `None`)
        LSTM layer, or highway layer for the highway kinds.
    direction : `Optional[int]`, optional (default = `None`)
        0 forward, 1 backward; LSTM kinds only.
    """

    kind: str
    weight: torch.Tensor
    layer: Optional[int] = None
    direction: Optional[int] = None

    @property
    def name(self) -> str:
        """E.g. `"layer 0 forward W_i"`, `"highway 0 W_carry"`, `"char-CNN projection"`."""
        if self.direction is not None:
            return f"layer {self.layer} {DIRECTIONS[self.direction]} {KIND_LABELS[self.kind]}"
        if self.layer is not None:
            return f"highway {self.layer} {KIND_LABELS[self.kind]}"
        return KIND_LABELS[self.kind]

    @property
    def is_lstm(self) -> bool:
        return self.direction is not None


def lstm_matrices(weights: ElmoWeights) -> List[NamedMatrix]:
    """W_i, W_h and W_P of every cell, in (layer, direction, kind) order."""
    matrices = []
    for layer, direction in weights.cells():
        for target in MATRIX_TARGETS:
            weight = weights.matrix(layer, direction, target).to_dense()
            matrices.append(NamedMatrix(target, weight, layer, direction))
        matrices.append(NamedMatrix("projection", weights.cell(layer, direction).projection, layer, direction))
    return matrices


def context_matrices(weights: ElmoWeights) -> List[NamedMatrix]:
    """The character encoder's highway matrices (transform, carry per layer) and its projection."""
    matrices = []
    for layer, (weight, _) in enumerate(weights.char_encoder.highways):
        # allennlp's one Linear(F, 2F) holds [W_transform ; -W_carry] (torch form, see weights.layout)
        filters = weight.shape[1]
        matrices.append(NamedMatrix("highway_transform", weight[:filters].contiguous(), layer))
        matrices.append(NamedMatrix("highway_carry", (-weight[filters:]).contiguous(), layer))
    matrices.append(NamedMatrix("char_projection", weights.char_encoder.projection[0]))
    return matrices


def analysis_matrices(weights: ElmoWeights) -> List[NamedMatrix]:
    """`lstm_matrices` then `context_matrices`, from an uncompressed biLM."""
    if weights.is_compressed:
        raise ElmoWeightsError(
            "analyze reads an uncompressed biLM (an official weights.hdf5); this file is already compressed"
        )
    return lstm_matrices(weights) + context_matrices(weights)
