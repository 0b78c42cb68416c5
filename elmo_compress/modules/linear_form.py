"""
`LinearForm`: what every layer that holds one LSTM matrix answers, whatever form the matrix is stored
in (`elmo_compress.methods.FORMS`). Callers ask the layer instead of testing its type:

- `from_matrix(matrix, bias)`: build the layer from a `CompressedMatrix` (and the LSTM bias);
- `to_matrix()`: the `CompressedMatrix` it holds (for writing weight files);
- `loop_chain()`: its weights as the fast biLSTM loop applies them (`LinearChain`);
- `quantized()`: its int8 counterpart for CPU inference;
- `compressed_parameters()`: the parameters that store a compressed matrix (what fine-tuning and
  distillation train);
- `num_stored_parameters()`: the numbers its matrix stores (bias excluded).

This is torch's quantization pattern (a float module -> `from_float` of its replacement) for our
forms. `elmo_compress/modules/forms.py` maps each form to its layer class; `DenseLinear` here is the
uncompressed form (a `torch.nn.Linear`, same state-dict keys).
"""

from typing import List, Optional, Tuple

import torch

from elmo_compress.factorize import CompressedMatrix, dense_matrix

# A linear map as the fast loop sees it: float weights applied in order (the bias added by the last),
# or int8 packed parameters (bias inside the last). Exactly one of the two lists is non-empty.
LinearChain = Tuple[
    List[torch.Tensor], Optional[torch.Tensor], List[torch.classes.quantized.LinearPackedParamsBase]
]


class LinearForm:
    """
    The questions every LSTM-matrix layer answers (see the module docstring). A mixin of
    `torch.nn.Module` subclasses; `form` names the stored form it runs.
    """

    form: str = ""

    @classmethod
    def from_matrix(cls, matrix: CompressedMatrix, bias: Optional[torch.Tensor] = None) -> "LinearForm":
        raise NotImplementedError

    def to_matrix(self) -> CompressedMatrix:
        raise NotImplementedError

    def loop_chain(self) -> LinearChain:
        raise NotImplementedError

    def quantized(self) -> torch.nn.Module:
        raise NotImplementedError

    def compressed_parameters(self) -> List[torch.nn.Parameter]:
        raise NotImplementedError

    def num_stored_parameters(self) -> int:
        raise NotImplementedError


def int8_linear(weight: torch.Tensor, bias: Optional[torch.Tensor] = None) -> "Int8Linear":
    """A dynamic quantized linear layer (int8 weight, per-tensor scale) computing `x @ weight^T + bias`."""
    out_features, in_features = weight.shape
    linear = torch.nn.Linear(in_features, out_features, bias=bias is not None)
    with torch.no_grad():
        linear.weight.copy_(weight)
        if bias is not None:
            linear.bias.copy_(bias)
    linear.qconfig = torch.ao.quantization.default_dynamic_qconfig
    return Int8Linear.from_float(linear)


def packed_params(module: torch.nn.Module) -> torch.ScriptObject:
    """The prepacked int8 weight and float bias of a dynamic quantized `Linear`."""
    return module._packed_params._packed_params


class Int8Linear(torch.nn.quantized.dynamic.Linear, LinearForm):
    """
    PyTorch's dynamic int8 `Linear` (weights stored as int8 ahead of time, activations quantized per
    call) answering `LinearForm` for the fast loop. Inference only: it has nothing to train.
    """

    form = "int8"

    def loop_chain(self) -> LinearChain:
        return [], None, [packed_params(self)]

    def quantized(self) -> torch.nn.Module:
        return self

    def compressed_parameters(self) -> List[torch.nn.Parameter]:
        return []

    def num_stored_parameters(self) -> int:
        return self.in_features * self.out_features


class DenseLinear(torch.nn.Linear, LinearForm):
    """
    An uncompressed LSTM matrix: `torch.nn.Linear` itself (same parameters, same state-dict keys),
    answering `LinearForm`.
    """

    form = "dense"

    @classmethod
    def from_matrix(cls, matrix: CompressedMatrix, bias: Optional[torch.Tensor] = None) -> "DenseLinear":
        out_features, in_features = matrix.shape
        layer = cls(in_features, out_features, bias=bias is not None, dtype=matrix.weight.dtype)
        with torch.no_grad():
            layer.weight.copy_(matrix.weight)
            if bias is not None:
                layer.bias.copy_(bias)
        return layer

    @classmethod
    def view_of(cls, linear: torch.nn.Linear) -> "DenseLinear":
        """A `DenseLinear` sharing `linear`'s parameters (no copy), to ask a plain `Linear` the questions."""
        view = cls.__new__(cls)
        torch.nn.Module.__init__(view)
        view.in_features, view.out_features = linear.in_features, linear.out_features
        view.weight, view.bias = linear.weight, linear.bias
        return view

    def to_matrix(self) -> CompressedMatrix:
        return dense_matrix(self.weight.detach().clone())

    def loop_chain(self) -> LinearChain:
        return [self.weight], self.bias, []

    def quantized(self) -> torch.nn.Module:
        return int8_linear(self.weight.detach(), None if self.bias is None else self.bias.detach())

    def compressed_parameters(self) -> List[torch.nn.Parameter]:
        return []

    def num_stored_parameters(self) -> int:
        return self.weight.numel()
