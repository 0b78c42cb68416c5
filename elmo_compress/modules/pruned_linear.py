from typing import Dict, List, Optional

import torch

from elmo_compress.factorize import CompressedMatrix, magnitude_prune_mask
from elmo_compress.modules.dense_state import LoadsDenseState
from elmo_compress.modules.linear_form import LinearChain, LinearForm, int8_linear


class PrunedLinear(LoadsDenseState, LinearForm):
    """
    A linear layer with a fixed sparsity mask: `y = x @ (weight * mask)^T + bias`. It is the
    magnitude-pruning baseline at the same parameter count as a low-rank factorization; it computes
    with a dense weight, so it is no faster than the layer it replaces.

    Loading a state dict with a dense `weight` and no `mask` (a model trained with plain ELMo)
    prunes that weight to this layer's number of kept entries on the fly.

    # Parameters

    weight : `torch.Tensor`
        Dense weight, shape (out_features, in_features).
    mask : `torch.Tensor`
        Boolean mask of the kept entries, same shape.
    bias : `torch.Tensor`, optional (default = `None`)
        Bias, shape (out_features,).
    rank : `int`, optional (default = `None`)
        The low-rank factorization whose parameter count this pruning matches, for the record.
    method : `str`, optional (default = `"prune"`)
        The method (of form `"sparse"`) that chose the kept entries.
    """

    def __init__(
        self,
        weight: torch.Tensor,
        mask: torch.Tensor,
        bias: Optional[torch.Tensor] = None,
        rank: Optional[int] = None,
        method: str = "prune",
    ) -> None:
        super().__init__()
        self.rank = rank
        self.method = method
        self.out_features, self.in_features = weight.shape
        self.register_buffer("mask", mask.bool().clone())
        self.weight = torch.nn.Parameter(weight.detach().clone() * self.mask)
        self.bias = torch.nn.Parameter(bias.detach().clone()) if bias is not None else None

    form = "sparse"

    @classmethod
    def from_matrix(cls, matrix: CompressedMatrix, bias: Optional[torch.Tensor] = None) -> "PrunedLinear":
        return cls(matrix.weight, matrix.weight != 0, bias, rank=matrix.rank, method=matrix.method)

    def to_matrix(self) -> CompressedMatrix:
        weight = (self.weight * self.mask).detach().clone()
        return CompressedMatrix(self.method, tuple(weight.shape), self.rank, weight=weight, n_kept=self.num_kept)

    def loop_chain(self) -> LinearChain:
        return [self.weight * self.mask], self.bias, []

    def quantized(self) -> torch.nn.Module:
        return int8_linear((self.weight * self.mask).detach(), None if self.bias is None else self.bias.detach())

    def compressed_parameters(self) -> List[torch.nn.Parameter]:
        return [self.weight]

    def num_stored_parameters(self) -> int:
        return self.num_kept

    @property
    def num_kept(self) -> int:
        return int(self.mask.sum())

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        # The mask is applied again so fine-tuning cannot revive pruned entries.
        return torch.nn.functional.linear(inputs, self.weight * self.mask, self.bias)

    def convert_dense_state(self, state_dict: Dict[str, torch.Tensor], prefix: str) -> None:
        weight_key, mask_key = prefix + "weight", prefix + "mask"
        if weight_key in state_dict and mask_key not in state_dict:
            mask = magnitude_prune_mask(state_dict[weight_key], self.num_kept)
            state_dict[mask_key] = mask
            state_dict[weight_key] = state_dict[weight_key] * mask

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"kept={self.num_kept}, bias={self.bias is not None}"
        )
