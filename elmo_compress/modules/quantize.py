"""
PyTorch dynamic int8 quantization of a (compressed) biLM's linear layers: weights stored as int8
ahead of time, activations quantized per call. A dense `Linear` or a `PrunedLinear` becomes one
int8 layer, a `LowRankLinear` two (`QuantizedLowRankLinear`), so low rank and int8 combine.
Inference only: int8 weights cannot be trained.
"""

from typing import Optional, Tuple, Type

import torch
from allennlp.modules.elmo import _ElmoBiLm
from allennlp.modules.elmo_lstm import ElmoLstm

from elmo_compress.modules.low_rank_linear import LowRankLinear
from elmo_compress.modules.pruned_linear import PrunedLinear

# The linear layers of one `LstmCellWithProjection`.
CELL_LINEAR_ATTRIBUTES = ("input_linearity", "state_linearity", "state_projection")


def quantized_linear_types() -> Tuple[Type[torch.nn.Module], ...]:
    """Module types torch's `quantize_dynamic` turns a `Linear` into."""
    return (torch.nn.quantized.dynamic.Linear,)


def packed_params(module: torch.nn.Module) -> torch.ScriptObject:
    """The prepacked int8 weight and float bias of a dynamic quantized `Linear`."""
    return module._packed_params._packed_params


def int8_linear(weight: torch.Tensor, bias: Optional[torch.Tensor] = None) -> torch.nn.Module:
    """A dynamic quantized `Linear` (int8 weight, per-tensor scale) computing `x @ weight^T + bias`."""
    out_features, in_features = weight.shape
    linear = torch.nn.Linear(in_features, out_features, bias=bias is not None)
    with torch.no_grad():
        linear.weight.copy_(weight)
        if bias is not None:
            linear.bias.copy_(bias)
    linear.qconfig = torch.ao.quantization.default_dynamic_qconfig
    return torch.nn.quantized.dynamic.Linear.from_float(linear)


class QuantizedLowRankLinear(torch.nn.Module):
    """
    A `LowRankLinear` with both factors in int8: `y = left(right(x))`, the bias added by `left`.

    # Parameters

    low_rank : `LowRankLinear`
        The float layer to quantize.
    """

    def __init__(self, low_rank: LowRankLinear) -> None:
        super().__init__()
        self.rank = low_rank.rank
        self.right = int8_linear(low_rank.right.weight.detach())
        self.left = int8_linear(
            low_rank.left.weight.detach(), None if low_rank.bias is None else low_rank.bias.detach()
        )

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        # shape (..., rank), then (..., out_features)
        return self.left(self.right(inputs))


def quantize_linear(module: torch.nn.Module) -> torch.nn.Module:
    """The int8 counterpart of a `Linear`, `LowRankLinear` or `PrunedLinear` (int8 layers pass through)."""
    if isinstance(module, (QuantizedLowRankLinear,) + quantized_linear_types()):
        return module
    if isinstance(module, LowRankLinear):
        return QuantizedLowRankLinear(module)
    if isinstance(module, PrunedLinear):
        return int8_linear((module.weight * module.mask).detach(), module.bias)
    if isinstance(module, torch.nn.Linear):
        return int8_linear(module.weight.detach(), None if module.bias is None else module.bias.detach())
    raise TypeError(f"no int8 rule for {type(module).__name__}")


def quantize_elmo_lstm(elmo_lstm: ElmoLstm) -> None:
    """Replace W_i, W_h and the projection of every cell by int8 layers, in place."""
    for cells in (elmo_lstm.forward_layers, elmo_lstm.backward_layers):
        for cell in cells:
            for attribute in CELL_LINEAR_ATTRIBUTES:
                setattr(cell, attribute, quantize_linear(getattr(cell, attribute)))


def quantize_bilm(bilm: _ElmoBiLm) -> None:
    """
    Quantize every linear layer of a biLM in place: the LSTM cells (`quantize_elmo_lstm`) and the
    character encoder's highway and projection layers (torch's `quantize_dynamic`). The character
    convolutions stay float.
    """
    if any(parameter.requires_grad for parameter in bilm.parameters()):
        raise ValueError("int8 quantization is for inference; build the biLM with requires_grad=False")
    quantize_elmo_lstm(bilm._elmo_lstm)
    torch.ao.quantization.quantize_dynamic(
        bilm._token_embedder, {torch.nn.Linear}, dtype=torch.qint8, inplace=True
    )
