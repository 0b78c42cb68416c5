"""
Argument checks shared by the factorization functions: a weight must be a finite 2-D float
matrix, a rank must fit it, and config numbers must have the right Python type.
"""

import math
from typing import Any, Tuple

import torch

from elmo_compress.errors import CompressionSpecError


def matrix_shape(weight: torch.Tensor) -> Tuple[int, int]:
    """
    Check that `weight` is a finite, 2-D floating-point matrix and return its shape.

    # Parameters

    weight : `torch.Tensor`
        The matrix to check, shape (m, n).

    # Returns

    shape : `Tuple[int, int]`
        `(m, n)`.
    """
    if not isinstance(weight, torch.Tensor):
        raise CompressionSpecError(f"expected a torch.Tensor weight matrix, got {type(weight).__name__}")
    if weight.dim() != 2 or not weight.is_floating_point():
        raise CompressionSpecError(
            "expected a 2-D floating-point weight matrix, "
            f"got shape {tuple(weight.shape)} and dtype {weight.dtype}"
        )
    if not bool(torch.isfinite(weight).all()):
        raise CompressionSpecError(f"weight matrix of shape {tuple(weight.shape)} contains NaN or infinite values")
    return int(weight.shape[0]), int(weight.shape[1])


def is_int(value: Any) -> bool:
    """`True` for a Python `int` that is not a `bool`."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_real(value: Any) -> bool:
    """`True` for a finite Python `int` or `float` that is not a `bool`."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def validate_rank(rank: int, shape: Tuple[int, int]) -> int:
    """
    Check that `rank` is a usable factorization rank for a matrix of `shape`.

    # Parameters

    rank : `int`
        The rank to check; must be an `int` (not a `bool`) with `1 <= rank <= min(m, n)`.
    shape : `Tuple[int, int]`
        `(m, n)`, the shape of the matrix to factorize.

    # Returns

    rank : `int`
        The same rank.
    """
    rows, columns = shape
    limit = min(rows, columns)
    if not is_int(rank):
        raise CompressionSpecError(f"rank must be an int, got {rank!r} ({type(rank).__name__})")
    if not 1 <= rank <= limit:
        raise CompressionSpecError(
            f"rank must be between 1 and min(m, n) = {limit} for a {rows} x {columns} matrix, got {rank}"
        )
    return rank


def check_share(name: str, value: Any) -> float:
    """`value` as a float in (0, 1], or a `CompressionSpecError` naming `name`."""
    if not is_real(value) or not 0.0 < value <= 1.0:
        raise CompressionSpecError(f"{name} must be a number in (0, 1], got {value!r}")
    return float(value)
