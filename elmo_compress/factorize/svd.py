"""
Truncated singular value decomposition: the best rank-r approximation of a matrix in Frobenius
and spectral norm (Eckart-Young-Mirsky), returned as two factors.
"""

from typing import Tuple

import torch

from elmo_compress.factorize.checks import matrix_shape, validate_rank
from elmo_compress.factorize.settings import MethodSettings


def singular_values(weight: torch.Tensor) -> torch.Tensor:
    """
    The singular values of `weight`, computed in float64.

    # Parameters

    weight : `torch.Tensor`
        Shape (m, n).

    # Returns

    singular_values : `torch.Tensor`
        Shape (min(m, n),), float64, in descending order.
    """
    matrix_shape(weight)
    return torch.linalg.svdvals(weight.detach().to(torch.float64))


def positive_pivot_signs(vectors: torch.Tensor) -> torch.Tensor:
    """
    Per column, +1 or -1 such that the column's entry of largest absolute value (the first one,
    on ties) becomes positive after multiplying by it.

    # Parameters

    vectors : `torch.Tensor`
        Shape (m, r).

    # Returns

    signs : `torch.Tensor`
        Shape (r,), entries +1 or -1, in `vectors`' dtype.
    """
    # shape: (r,)
    pivots = torch.argmax(vectors.abs(), dim=0)
    # shape: (r,)
    pivot_values = vectors.gather(0, pivots.unsqueeze(0)).squeeze(0)
    return torch.where(pivot_values < 0, -torch.ones_like(pivot_values), torch.ones_like(pivot_values))


def truncated_svd(weight: torch.Tensor, rank: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """
    Factorize `weight` (m x n) as `left @ right` with `left` (m x r) and `right` (r x n), the
    truncated SVD `U_r diag(S_r) V_r^T` keeping the `rank` largest singular values. Its error
    `||weight - left @ right||_F` is `sqrt(sum of the discarded s_i^2)`, the least of any rank-r
    matrix.

    The singular values are split evenly between the factors: `left = U_r diag(sqrt(S_r))` and
    `right = diag(sqrt(S_r)) V_r^T`. This balanced split gives both factors the same scale
    (column k of `left` and row k of `right` both have norm `sqrt(s_k)`), which suits
    fine-tuning (neither factor's gradients dwarf the other's) and int8 quantization (one value
    range for both).

    The result is deterministic: each singular pair is flipped so that the entry of largest
    absolute value in each column of `U_r` is positive. The decomposition runs in float64.

    # Parameters

    weight : `torch.Tensor`
        Shape (m, n), floating point.
    rank : `int`
        Number of singular values kept, `1 <= rank <= min(m, n)`.

    # Returns

    left : `torch.Tensor`
        Shape (m, rank), in `weight`'s dtype, contiguous.
    right : `torch.Tensor`
        Shape (rank, n), in `weight`'s dtype, contiguous.
    """
    validate_rank(rank, matrix_shape(weight))
    # u: (m, k), s: (k,), vh: (k, n) with k = min(m, n)
    u, s, vh = torch.linalg.svd(weight.to(torch.float64), full_matrices=False)
    # u: (m, r), s: (r,), vh: (r, n)
    u, s, vh = u[:, :rank], s[:rank], vh[:rank]
    signs = positive_pivot_signs(u)
    root = s.sqrt()
    # shape: (m, r); flipping a column of U and the matching row of V^T leaves U S V^T unchanged.
    left = u * (signs * root)
    # shape: (r, n)
    right = (signs * root).unsqueeze(1) * vh
    return left.to(weight.dtype).contiguous(), right.to(weight.dtype).contiguous()


def svd_method(weight: torch.Tensor, rank: int, settings: MethodSettings) -> Tuple[torch.Tensor, torch.Tensor]:
    """Method `"svd"` of `elmo_compress.methods`: `truncated_svd` (needs no settings)."""
    return truncated_svd(weight, rank)
