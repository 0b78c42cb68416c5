"""
Magnitude pruning at a parameter budget, the baseline for low-rank factorization: a rank-r
factorization of an m x n matrix stores `r (m + n)` numbers, so pruning keeps that many entries.
"""

from typing import Tuple

import torch

from elmo_compress.errors import CompressionSpecError
from elmo_compress.factorize.checks import is_int, matrix_shape, validate_rank
from elmo_compress.factorize.settings import MethodSettings


def low_rank_parameter_count(shape: Tuple[int, int], rank: int) -> int:
    """
    Number of parameters in the two factors of a rank-`rank` factorization of a `shape` matrix.

    # Parameters

    shape : `Tuple[int, int]`
        `(m, n)`.
    rank : `int`
        `1 <= rank <= min(m, n)`.

    # Returns

    count : `int`
        `rank * (m + n)`.
    """
    rows, columns = shape
    validate_rank(rank, (rows, columns))
    return rank * (rows + columns)


def magnitude_prune_mask(weight: torch.Tensor, n_params: int) -> torch.Tensor:
    """
    The entries of `weight` that magnitude pruning keeps: the `min(n_params, m * n)` entries of
    largest absolute value. Among equal magnitudes the entry with the smaller row-major index
    is kept, so the mask is deterministic.

    # Parameters

    weight : `torch.Tensor`
        Shape (m, n).
    n_params : `int`
        How many entries to keep, >= 1.

    # Returns

    mask : `torch.Tensor`
        Shape (m, n), `torch.bool`, with exactly `min(n_params, m * n)` `True` entries.
    """
    matrix_shape(weight)
    if not is_int(n_params) or n_params < 1:
        raise CompressionSpecError(f"number of parameters to keep must be an int >= 1, got {n_params!r}")
    # shape: (m * n,)
    magnitudes = weight.detach().abs().reshape(-1)
    # A stable ascending sort of -|w| orders equal magnitudes by flat index (topk would not).
    order = torch.sort(-magnitudes, stable=True).indices
    mask = torch.zeros_like(magnitudes, dtype=torch.bool)
    mask[order[: min(n_params, magnitudes.numel())]] = True
    return mask.reshape(weight.shape)


def magnitude_prune(weight: torch.Tensor, n_params: int) -> torch.Tensor:
    """
    A copy of `weight` with all but its `n_params` largest-magnitude entries set to 0
    (see `magnitude_prune_mask`).

    # Parameters

    weight : `torch.Tensor`
        Shape (m, n).
    n_params : `int`
        How many entries to keep, >= 1.

    # Returns

    pruned : `torch.Tensor`
        Shape (m, n), `weight`'s dtype.
    """
    return weight.masked_fill(~magnitude_prune_mask(weight, n_params), 0.0)


def prune_method(weight: torch.Tensor, rank: int, settings: MethodSettings) -> Tuple[torch.Tensor, int]:
    """
    Method `"prune"` of `elmo_compress.methods`: keep the `rank * (m + n)` largest-magnitude entries, the
    parameter count of rank-`rank` factors. Returns the pruned matrix and the number of kept entries.
    """
    mask = magnitude_prune_mask(weight, low_rank_parameter_count(matrix_shape(weight), rank))
    return weight.masked_fill(~mask, 0.0), int(mask.sum())
