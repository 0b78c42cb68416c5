from typing import Any, Dict, List, Optional

import torch

from elmo_compress.factorize import DEFAULT_MAX_ITERATIONS, DEFAULT_TOLERANCE, CompressedMatrix, compress_matrix
from elmo_compress.modules.dense_state import LoadsDenseState
from elmo_compress.modules.linear_form import LinearChain, LinearForm
from elmo_compress.modules.quantize import QuantizedLowRankLinear


class LowRankLinear(LoadsDenseState, LinearForm):
    """
    A linear layer whose weight is a product of two factors, `weight ~ left @ right`, applied as
    two matrix products: `y = (x @ right^T) @ left^T + bias`. With `rank * (in + out) < in * out`
    this needs fewer parameters and multiply-adds than the dense layer it replaces.

    Loading a state dict that holds a dense `weight` instead of the factors (a model trained with
    plain ELMo) factorizes that weight with this layer's `method` and `rank` on the fly.

    # Parameters

    in_features : `int`
        Input size `n`.
    out_features : `int`
        Output size `m`.
    rank : `int`
        Inner size `r` of the factorization.
    bias : `bool`, optional (default = `True`)
        Whether the layer adds a bias (kept under the dense layer's key `bias`).
    method : `str`, optional (default = `"svd"`)
        The method (of form `"factors"`) that made the factors, and that factorizes a dense weight
        given at load time.
    max_iterations : `int`, optional (default = `300`)
        Semi-NMF iteration limit for load-time factorization.
    tolerance : `float`, optional (default = `1e-5`)
        Semi-NMF stopping tolerance for load-time factorization.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        rank: int,
        bias: bool = True,
        method: str = "svd",
        max_iterations: int = DEFAULT_MAX_ITERATIONS,
        tolerance: float = DEFAULT_TOLERANCE,
    ) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.rank = rank
        self.method = method
        self.max_iterations = max_iterations
        self.tolerance = tolerance
        # right.weight: (rank, in_features); left.weight: (out_features, rank)
        self.right = torch.nn.Linear(in_features, rank, bias=False)
        self.left = torch.nn.Linear(rank, out_features, bias=False)
        self.bias = torch.nn.Parameter(torch.zeros(out_features)) if bias else None

    @classmethod
    def from_factors(
        cls, left: torch.Tensor, right: torch.Tensor, bias: Optional[torch.Tensor] = None, **kwargs: Any
    ) -> "LowRankLinear":
        """Build from `left` (out, rank) and `right` (rank, in) and an optional bias (out,)."""
        layer = cls(right.shape[1], left.shape[0], left.shape[1], bias=bias is not None, **kwargs).to(left.dtype)
        with torch.no_grad():
            layer.left.weight.copy_(left)
            layer.right.weight.copy_(right)
            if bias is not None:
                layer.bias.copy_(bias)
        return layer

    form = "factors"

    @classmethod
    def from_matrix(
        cls,
        matrix: CompressedMatrix,
        bias: Optional[torch.Tensor] = None,
        max_iterations: int = DEFAULT_MAX_ITERATIONS,
        tolerance: float = DEFAULT_TOLERANCE,
    ) -> "LowRankLinear":
        return cls.from_factors(
            matrix.left, matrix.right, bias, method=matrix.method, max_iterations=max_iterations, tolerance=tolerance
        )

    def to_matrix(self) -> CompressedMatrix:
        left, right = self.left.weight.detach().clone(), self.right.weight.detach().clone()
        return CompressedMatrix(self.method, (self.out_features, self.in_features), self.rank, left=left, right=right)

    def loop_chain(self) -> LinearChain:
        return [self.right.weight, self.left.weight], self.bias, []

    def quantized(self) -> torch.nn.Module:
        return QuantizedLowRankLinear(self)

    def compressed_parameters(self) -> List[torch.nn.Parameter]:
        return [self.left.weight, self.right.weight]

    def num_stored_parameters(self) -> int:
        return self.left.weight.numel() + self.right.weight.numel()

    def weight(self) -> torch.Tensor:
        """The dense weight `left @ right`, shape (out_features, in_features)."""
        return self.left.weight @ self.right.weight

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        # shape (..., rank)
        inner = self.right(inputs)
        # shape (..., out_features)
        return torch.nn.functional.linear(inner, self.left.weight, self.bias)

    def convert_dense_state(self, state_dict: Dict[str, torch.Tensor], prefix: str) -> None:
        dense_key = prefix + "weight"
        if dense_key in state_dict and prefix + "left.weight" not in state_dict:
            compressed = compress_matrix(
                state_dict.pop(dense_key).float(),
                self.method,
                self.rank,
                max_iterations=self.max_iterations,
                tolerance=self.tolerance,
            )
            state_dict[prefix + "left.weight"] = compressed.left
            state_dict[prefix + "right.weight"] = compressed.right

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, rank={self.rank}, "
            f"bias={self.bias is not None}, method={self.method}"
        )
