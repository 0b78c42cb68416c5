"""
`CompressedMatrix`, one weight matrix in compressed form (factors, or a pruned copy), and
`compress_matrix`, which builds it with one of the `METHODS`.
"""

from dataclasses import dataclass
from typing import Optional, Tuple

import torch

from elmo_compress.errors import CompressionSpecError, ElmoCompressError
from elmo_compress.factorize.checks import matrix_shape, validate_rank
from elmo_compress.factorize.prune import low_rank_parameter_count, magnitude_prune_mask
from elmo_compress.factorize.semi_nmf import semi_nmf
from elmo_compress.factorize.svd import truncated_svd

METHODS = ("svd", "semi_nmf", "prune")
FACTORIZED_METHODS = ("svd", "semi_nmf")
MATRIX_METHODS = ("dense",) + METHODS


@dataclass
class CompressedMatrix:
    """
    One weight matrix, either as it was (`"dense"`), as two factors (`"svd"`, `"semi_nmf"`), or
    magnitude pruned (`"prune"`).

    # Parameters

    method : `str`
        `"dense"`, `"svd"`, `"semi_nmf"` or `"prune"`.
    shape : `Tuple[int, int]`
        `(m, n)`, the shape of the matrix this stands for.
    rank : `Optional[int]`
        The factorization rank; for `"prune"`, the rank whose factor parameter count the pruning
        matches; `None` for `"dense"`.
    left : `torch.Tensor`, optional (default = `None`)
        Shape (m, rank), for `"svd"` and `"semi_nmf"`.
    right : `torch.Tensor`, optional (default = `None`)
        Shape (rank, n), for `"svd"` and `"semi_nmf"`.
    weight : `torch.Tensor`, optional (default = `None`)
        Shape (m, n): the matrix itself for `"dense"`, the pruned copy (zeros elsewhere) for
        `"prune"`.
    n_kept : `int`, optional (default = `None`)
        For `"prune"`, how many entries pruning kept (kept entries may themselves be 0, so this
        is not the count of non-zeros).
    """

    method: str
    shape: Tuple[int, int]
    rank: Optional[int]
    left: Optional[torch.Tensor] = None
    right: Optional[torch.Tensor] = None
    weight: Optional[torch.Tensor] = None
    n_kept: Optional[int] = None

    def __post_init__(self) -> None:
        if self.method not in MATRIX_METHODS:
            raise CompressionSpecError(
                f"unknown matrix method {self.method!r}; expected one of {', '.join(MATRIX_METHODS)}"
            )
        self.shape = tuple(int(size) for size in self.shape)
        if len(self.shape) != 2:
            raise ElmoCompressError(f"a compressed matrix needs a 2-D shape, got {self.shape}")
        if self.method in FACTORIZED_METHODS:
            self._check_factors()
        else:
            self._check_weight()

    def _check_factors(self) -> None:
        rows, columns = self.shape
        expected = f"left ({rows}, {self.rank}) and right ({self.rank}, {columns})"
        if (
            self.left is None
            or self.right is None
            or tuple(self.left.shape) != (rows, self.rank)
            or tuple(self.right.shape) != (self.rank, columns)
        ):
            got = [None if factor is None else tuple(factor.shape) for factor in (self.left, self.right)]
            raise ElmoCompressError(f"{self.method} matrix needs {expected}, got factor shapes {got}")

    def _check_weight(self) -> None:
        if self.weight is None or tuple(self.weight.shape) != self.shape:
            got = None if self.weight is None else tuple(self.weight.shape)
            raise ElmoCompressError(f"{self.method} matrix needs a weight of shape {self.shape}, got {got}")
        if self.method == "prune" and (self.n_kept is None or not 0 <= self.n_kept <= self.weight.numel()):
            raise ElmoCompressError(
                f"prune matrix needs n_kept between 0 and {self.weight.numel()}, got {self.n_kept!r}"
            )

    def num_parameters(self) -> int:
        """
        Stored parameters: `m * n` for `"dense"`, `rank * (m + n)` for the factorizations, the
        number of kept entries for `"prune"`.
        """
        if self.method in FACTORIZED_METHODS:
            return self.left.numel() + self.right.numel()
        if self.method == "prune":
            return self.n_kept
        return self.weight.numel()

    def to_dense(self) -> torch.Tensor:
        """
        The (approximate) matrix, shape (m, n): `left @ right` for the factorizations, else
        `weight` itself (not a copy).
        """
        if self.method in FACTORIZED_METHODS:
            return self.left @ self.right
        return self.weight

    def relative_error(self, original: torch.Tensor) -> float:
        """
        `||original - to_dense()||_F / ||original||_F`, computed in float64 (0 when both are 0,
        infinity when only `original` is 0).

        # Parameters

        original : `torch.Tensor`
            The uncompressed matrix, shape (m, n).
        """
        if tuple(original.shape) != self.shape:
            raise ElmoCompressError(
                f"original matrix has shape {tuple(original.shape)}, compressed one stands for {self.shape}"
            )
        reference = original.detach().to(torch.float64)
        difference = float(torch.linalg.matrix_norm(reference - self.to_dense().detach().to(torch.float64)))
        norm = float(torch.linalg.matrix_norm(reference))
        if norm == 0.0:
            return 0.0 if difference == 0.0 else float("inf")
        return difference / norm


def dense_matrix(weight: torch.Tensor) -> CompressedMatrix:
    """
    An uncompressed matrix in the same wrapper.

    # Parameters

    weight : `torch.Tensor`
        Shape (m, n).

    # Returns

    matrix : `CompressedMatrix`
        `method == "dense"`, `rank is None`, holding `weight` itself.
    """
    return CompressedMatrix("dense", tuple(weight.shape), None, weight=weight)


def compress_matrix(
    weight: torch.Tensor, method: str, rank: int, max_iterations: int = 300, tolerance: float = 1e-5
) -> CompressedMatrix:
    """
    Compress `weight` with `method` at `rank`; the input is detached first.

    # Parameters

    weight : `torch.Tensor`
        Shape (m, n), floating point.
    method : `str`
        `"svd"` (`truncated_svd`), `"semi_nmf"` (`semi_nmf`) or `"prune"` (`magnitude_prune_mask`
        keeping `low_rank_parameter_count((m, n), rank)` entries, the size of rank-`rank` factors).
    rank : `int`
        `1 <= rank <= min(m, n)`.
    max_iterations : `int`, optional (default = `300`)
        Semi-NMF iteration limit.
    tolerance : `float`, optional (default = `1e-5`)
        Semi-NMF stopping tolerance (relative improvement per iteration).

    # Returns

    matrix : `CompressedMatrix`
    """
    if method not in METHODS:
        raise CompressionSpecError(f"unknown compression method {method!r}; expected one of {', '.join(METHODS)}")
    shape = matrix_shape(weight)
    validate_rank(rank, shape)
    weight = weight.detach()
    if method == "svd":
        left, right = truncated_svd(weight, rank)
        return CompressedMatrix(method, shape, rank, left=left, right=right)
    if method == "semi_nmf":
        left, right = semi_nmf(weight, rank, max_iterations=max_iterations, tolerance=tolerance)
        return CompressedMatrix(method, shape, rank, left=left, right=right)
    mask = magnitude_prune_mask(weight, low_rank_parameter_count(shape, rank))
    return CompressedMatrix(method, shape, rank, weight=weight.masked_fill(~mask, 0.0), n_kept=int(mask.sum()))
