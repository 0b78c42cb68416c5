"""
PyTorch dynamic int8 quantization of a (compressed) biLM's linear layers: weights stored as int8
ahead of time, activations quantized per call. Every LSTM-matrix layer gives its own int8 form
(`LinearForm.quantized`): a dense or pruned matrix becomes one `Int8Linear`, a `LowRankLinear` two
(`QuantizedLowRankLinear`), so low rank and int8 combine. Inference only: int8 weights cannot be trained.
"""

from typing import List

import torch
from allennlp.modules.elmo import _ElmoBiLm
from allennlp.modules.elmo_lstm import ElmoLstm

from elmo_compress.errors import ElmoCompressError
from elmo_compress.modules.linear_form import LinearChain, LinearForm, int8_linear, packed_params

# The linear layers of one `LstmCellWithProjection`.
CELL_LINEAR_ATTRIBUTES = ("input_linearity", "state_linearity", "state_projection")


class QuantizedLowRankLinear(torch.nn.Module, LinearForm):
    """
    A `LowRankLinear` with both factors in int8: `y = left(right(x))`, the bias added by `left`.

    # Parameters

    low_rank : `LowRankLinear`
        The float layer to quantize.
    """

    form = "int8"

    def __init__(self, low_rank: torch.nn.Module) -> None:
        super().__init__()
        self.rank = low_rank.rank
        self.right = int8_linear(low_rank.right.weight.detach())
        self.left = int8_linear(
            low_rank.left.weight.detach(), None if low_rank.bias is None else low_rank.bias.detach()
        )

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        # shape (..., rank), then (..., out_features)
        return self.left(self.right(inputs))

    def loop_chain(self) -> LinearChain:
        return [], None, [packed_params(self.right), packed_params(self.left)]

    def quantized(self) -> torch.nn.Module:
        return self

    def compressed_parameters(self) -> List[torch.nn.Parameter]:
        return []

    def num_stored_parameters(self) -> int:
        return self.right.num_stored_parameters() + self.left.num_stored_parameters()


def quantize_elmo_lstm(elmo_lstm: ElmoLstm) -> None:
    """Replace W_i, W_h and the projection of every cell by their int8 forms, in place."""
    from elmo_compress.modules.forms import as_linear_form

    for cells in (elmo_lstm.forward_layers, elmo_lstm.backward_layers):
        for cell in cells:
            for attribute in CELL_LINEAR_ATTRIBUTES:
                setattr(cell, attribute, as_linear_form(getattr(cell, attribute)).quantized())


def quantize_bilm(bilm: _ElmoBiLm, character_encoder: bool = True) -> None:
    """
    Quantize the linear layers of a biLM in place: the LSTM cells (`quantize_elmo_lstm`) and, with
    `character_encoder`, the character encoder's highway and projection layers (torch's
    `quantize_dynamic`). The character convolutions stay float. Leave the encoder float when its token
    vectors are cached: a dynamically quantized product scales its activations by the range of all
    its rows, so a cached vector would depend on the batch it was computed in.
    """
    if any(parameter.requires_grad for parameter in bilm.parameters()):
        raise ElmoCompressError("int8 quantization is for inference; build the biLM with requires_grad=False")
    quantize_elmo_lstm(bilm._elmo_lstm)
    if character_encoder:
        torch.ao.quantization.quantize_dynamic(
            bilm._token_embedder, {torch.nn.Linear}, dtype=torch.qint8, inplace=True
        )
