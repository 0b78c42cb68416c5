"""
`CompressedMatrix`, one weight matrix in compressed form (factors, or a pruned copy), and
`compress_matrix`, which builds it with one of the methods of `elmo_compress.methods`.
"""

from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import torch

from elmo_compress.errors import CompressionSpecError, ElmoCompressError
from elmo_compress.factorize.checks import matrix_shape, validate_rank
from elmo_compress.factorize.settings import DEFAULT_MAX_ITERATIONS, DEFAULT_TOLERANCE, MethodSettings
from elmo_compress.methods import METHOD_NAMES, METHODS

MATRIX_METHODS = ("dense",) + METHOD_NAMES


def method_form(method: str) -> str:
    """The stored form (`elmo_compress.methods.FORMS`) of a matrix made by `method` (`"dense"`: itself)."""
    if method == "dense":
        return "dense"
    if method not in METHODS:
        raise CompressionSpecError(
            f"unknown matrix method {method!r}; expected one of {', '.join(MATRIX_METHODS)}"
        )
    return METHODS[method].form


@dataclass
class CompressedMatrix:
    """
    One weight matrix in one of the stored forms of `elmo_compress.methods`: as it was (method
    `"dense"`), as two factors (form `"factors"`: `"svd"`, `"semi_nmf"`, ...), or with most entries
    zeroed (form `"sparse"`: `"prune"`). Every tensor must be finite.

    # Parameters

    method : `str`
        `"dense"` or a method of `elmo_compress.methods.METHODS`.
    shape : `Tuple[int, int]`
        `(m, n)`, the shape of the matrix this stands for.
    rank : `Optional[int]`
        The factorization rank; for a sparse form, the rank whose factor parameter count it matches;
        `None` for `"dense"`.
    left : `torch.Tensor`, optional (default = `None`)
        Shape (m, rank), form `"factors"`.
    right : `torch.Tensor`, optional (default = `None`)
        Shape (rank, n), form `"factors"`.
    weight : `torch.Tensor`, optional (default = `None`)
        Shape (m, n): the matrix itself for `"dense"`, the pruned copy (zeros elsewhere) for the
        sparse form.
    n_kept : `int`, optional (default = `None`)
        Sparse form: how many entries were kept (kept entries may themselves be 0, so this is not
        the count of non-zeros).
    """

    method: str
    shape: Tuple[int, int]
    rank: Optional[int]
    left: Optional[torch.Tensor] = None
    right: Optional[torch.Tensor] = None
    weight: Optional[torch.Tensor] = None
    n_kept: Optional[int] = None

    def __post_init__(self) -> None:
        self.form = method_form(self.method)
        self.shape = tuple(int(size) for size in self.shape)
        if len(self.shape) != 2:
            raise ElmoCompressError(f"a compressed matrix needs a 2-D shape, got {self.shape}")
        if self.form == "factors":
            self._check_factors()
        else:
            self._check_weight()
        for name, tensor in self.tensors().items():
            if not bool(torch.isfinite(tensor).all()):
                raise ElmoCompressError(f"{self.method} matrix: {name} contains NaN or infinite values")

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
        if self.form == "sparse" and (self.n_kept is None or not 0 <= self.n_kept <= self.weight.numel()):
            raise ElmoCompressError(
                f"{self.method} matrix needs n_kept between 0 and {self.weight.numel()}, got {self.n_kept!r}"
            )

    def tensors(self) -> Dict[str, torch.Tensor]:
        """The tensors of its form, by name: `left` and `right`, or `weight`."""
        if self.form == "factors":
            return {"left": self.left, "right": self.right}
        return {"weight": self.weight}

    def num_parameters(self) -> int:
        """
        Stored parameters: `m * n` for `"dense"`, `rank * (m + n)` for factors, the number of kept
        entries for the sparse form.
        """
        if self.form == "factors":
            return self.left.numel() + self.right.numel()
        if self.form == "sparse":
            return self.n_kept
        return self.weight.numel()

    def to_dense(self) -> torch.Tensor:
        """
        The (approximate) matrix, shape (m, n): `left @ right` for factors, else `weight` itself
        (not a copy).
        """
        if self.form == "factors":
            return self.left @ self.right
        return self.weight

    def stored_arrays(self) -> Dict[str, torch.Tensor]:
        """
        What a compressed weights file stores for it (docs/compressed_weights_format.md): the factors,
        the dense weight, or the kept entries as row-major flat `indices` (int64) and `values`.
        """
        if self.form != "sparse":
            return {name: tensor.detach() for name, tensor in self.tensors().items()}
        flat = self.weight.detach().reshape(-1)
        indices = torch.nonzero(flat).squeeze(1)
        return {"indices": indices.to(torch.int64), "values": flat[indices]}

    @classmethod
    def from_stored_arrays(
        cls, method: str, shape: Tuple[int, int], rank: Optional[int], arrays: Dict[str, torch.Tensor]
    ) -> "CompressedMatrix":
        """The inverse of `stored_arrays`; a missing array raises `KeyError` naming it."""
        form = method_form(method)
        if form == "factors":
            return cls(method, shape, rank, left=arrays["left"], right=arrays["right"])
        if form == "sparse":
            values, indices = arrays["values"], arrays["indices"]
            if indices.numel() and (int(indices.min()) < 0 or int(indices.max()) >= shape[0] * shape[1]):
                raise ElmoCompressError(f"{method} matrix: indices outside a {shape[0]} x {shape[1]} matrix")
            weight = torch.zeros(shape[0] * shape[1], dtype=values.dtype)
            weight[indices] = values
            return cls(method, shape, rank, weight=weight.reshape(shape), n_kept=len(values))
        return dense_matrix(arrays["weight"])

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
    weight: torch.Tensor,
    method: str,
    rank: int,
    max_iterations: int = DEFAULT_MAX_ITERATIONS,
    tolerance: float = DEFAULT_TOLERANCE,
    settings: Optional[MethodSettings] = None,
) -> CompressedMatrix:
    """
    Compress `weight` with `method` at `rank`; the input is detached first.

    # Parameters

    weight : `torch.Tensor`
        Shape (m, n), floating point, finite.
    method : `str`
        A method of `elmo_compress.methods.METHODS`: `"svd"` (`truncated_svd`), `"semi_nmf"`
        (`semi_nmf`), `"prune"` (`magnitude_prune_mask` keeping `low_rank_parameter_count((m, n), rank)`
        entries, the size of rank-`rank` factors), ...
    rank : `int`
        `1 <= rank <= min(m, n)`.
    max_iterations : `int`, optional (default = `300`)
        Semi-NMF iteration limit (ignored when `settings` is given).
    tolerance : `float`, optional (default = `1e-5`)
        Semi-NMF stopping tolerance (ignored when `settings` is given).
    settings : `MethodSettings`, optional (default = `None`)
        Everything a method may need (iteration settings, input statistics, a progress callback).

    # Returns

    matrix : `CompressedMatrix`
    """
    if method not in METHODS:
        raise CompressionSpecError(
            f"unknown compression method {method!r}; expected one of {', '.join(METHOD_NAMES)}"
        )
    shape = matrix_shape(weight)
    validate_rank(rank, shape)
    if settings is None:
        settings = MethodSettings(max_iterations=max_iterations, tolerance=tolerance)
    entry = METHODS[method]
    if entry.needs_statistics and settings.statistics is None:
        raise CompressionSpecError(f"method {method!r} needs input statistics (calibration) for every matrix")
    result = entry.load()(weight.detach(), rank, settings)
    if entry.form == "factors":
        left, right = result
        return CompressedMatrix(method, shape, rank, left=left, right=right)
    pruned, n_kept = result
    return CompressedMatrix(method, shape, rank, weight=pruned, n_kept=n_kept)
