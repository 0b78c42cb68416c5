"""
Activation-aware ("whitened") truncated SVD: the rank-r matrix that minimizes the expected output
error on the inputs a matrix actually sees, rather than the Frobenius distance to it.

For inputs x with uncentered second moment C = E[x x^T] = L L^T (Cholesky),

    E ||(W - W_r) x||^2 = trace((W - W_r) C (W - W_r)^T) = ||(W - W_r) L||_F^2,

so the best rank-r W_r is the truncated SVD of W L mapped back: W L = U S V^T, W_r = U_r S_r V_r^T L^{-1}
(Eckart-Young on W L; L is invertible). The discarded s_i^2 of W L are exactly the expected output
error, which makes them the predictor `elmo_compress.factorize.allocation` allocates ranks with.
This is the truncation-aware whitening of SVD-LLM (Wang et al. 2024); with C = I it is plain SVD.

Damping. C is positive semi-definite but can be singular or badly conditioned: an input direction the
calibration text never excites (a dead feature, fewer samples than dimensions). The Cholesky factor is
taken of C + delta I with delta = damping * trace(C) / n (the damping times the mean input energy per
direction; the same rule as GPTQ's `percdamp`, default 0.01). It makes L invertible and bounds
||L^{-1}||_2 <= 1 / sqrt(delta), so the right factor cannot blow up along directions that calibration
did not see (where a compressed model's inputs, which differ from the calibration ones, may still go),
and it changes the objective only by delta ||W - W_r||_F^2: a share `damping` of a plain-SVD-like term.
"""

from typing import Tuple

import torch

from elmo_compress.errors import CompressionSpecError
from elmo_compress.factorize.checks import is_real, matrix_shape, validate_rank
from elmo_compress.factorize.settings import MethodSettings
from elmo_compress.factorize.svd import positive_pivot_signs

# delta = DEFAULT_DAMPING * trace(C) / n is added to the diagonal of C before its Cholesky factorization.
DEFAULT_DAMPING = 0.01


def check_second_moment(second_moment: torch.Tensor, columns: int) -> torch.Tensor:
    """
    `second_moment` as a symmetric float64 (n, n) matrix, or one error line saying what is wrong.

    # Parameters

    second_moment : `torch.Tensor`
        E[x x^T] of the matrix's inputs, shape (n, n).
    columns : `int`
        n, the number of columns of the matrix it belongs to.

    # Returns

    second_moment : `torch.Tensor`
        Shape (n, n), float64, symmetrized.
    """
    if not isinstance(second_moment, torch.Tensor) or tuple(second_moment.shape) != (columns, columns):
        got = (
            tuple(second_moment.shape) if isinstance(second_moment, torch.Tensor) else type(second_moment).__name__
        )
        raise CompressionSpecError(f"input statistics must be a ({columns}, {columns}) second moment, got {got}")
    if not bool(torch.isfinite(second_moment).all()):
        raise CompressionSpecError("input statistics contain NaN or infinite values")
    moment = second_moment.detach().to(torch.float64)
    return (moment + moment.T) / 2


def input_whitening(second_moment: torch.Tensor, damping: float = DEFAULT_DAMPING) -> torch.Tensor:
    """
    The lower-triangular L with L L^T = C + delta I, delta = damping * trace(C) / n (see the module
    docstring). A zero C (inputs that are always 0) gives L = I: every direction weighs the same.

    # Parameters

    second_moment : `torch.Tensor`
        C, shape (n, n), symmetric positive semi-definite.
    damping : `float`, optional (default = `0.01`)
        >= 0; 0 needs a positive definite C.

    # Returns

    factor : `torch.Tensor`
        L, shape (n, n), float64, lower triangular.
    """
    if not is_real(damping) or damping < 0:
        raise CompressionSpecError(f"damping must be a finite number >= 0, got {damping!r}")
    moment = check_second_moment(second_moment, int(second_moment.shape[-1]))
    columns = moment.shape[0]
    scale = float(torch.diagonal(moment).sum()) / columns
    identity = torch.eye(columns, dtype=torch.float64)
    if scale <= 0.0:
        return identity
    factor, info = torch.linalg.cholesky_ex(moment + damping * scale * identity)
    if int(info) != 0:
        raise CompressionSpecError(
            f"input statistics are not positive definite (Cholesky fails at column {int(info)}); use a damping > 0"
        )
    return factor


def whitened_singular_values(
    weight: torch.Tensor, second_moment: torch.Tensor, damping: float = DEFAULT_DAMPING
) -> torch.Tensor:
    """
    The singular values of W L: truncating at rank r leaves an expected output error (on inputs of
    second moment C + delta I) of the sum of the squares of those past r.

    # Parameters

    weight : `torch.Tensor`
        Shape (m, n).
    second_moment : `torch.Tensor`
        Shape (n, n).
    damping : `float`, optional (default = `0.01`)

    # Returns

    singular_values : `torch.Tensor`
        Shape (min(m, n),), float64, descending.
    """
    _, columns = matrix_shape(weight)
    check_second_moment(second_moment, columns)
    return torch.linalg.svdvals(weight.detach().to(torch.float64) @ input_whitening(second_moment, damping))


def whitened_truncated_svd(
    weight: torch.Tensor,
    rank: int,
    second_moment: torch.Tensor,
    damping: float = DEFAULT_DAMPING,
) -> Tuple[torch.Tensor, torch.Tensor]:
    """
    Factorize `weight` (m x n) as `left @ right` minimizing E||(W - left right) x||^2 over inputs of
    second moment C + delta I: the SVD of W L truncated to `rank`, `left = U_r S_r^{1/2}`,
    `right = S_r^{1/2} V_r^T L^{-1}` (a triangular solve, no inverse). Signs fixed as in
    `truncated_svd` (deterministic); computed in float64.

    # Parameters

    weight : `torch.Tensor`
        Shape (m, n), floating point.
    rank : `int`
        `1 <= rank <= min(m, n)`.
    second_moment : `torch.Tensor`
        C = E[x x^T] of the inputs, shape (n, n).
    damping : `float`, optional (default = `0.01`)

    # Returns

    left : `torch.Tensor`
        Shape (m, rank), in `weight`'s dtype.
    right : `torch.Tensor`
        Shape (rank, n), in `weight`'s dtype.
    """
    rows, columns = matrix_shape(weight)
    validate_rank(rank, (rows, columns))
    check_second_moment(second_moment, columns)
    # shape: (n, n)
    factor = input_whitening(second_moment, damping)
    # u: (m, k), s: (k,), vh: (k, n)
    u, s, vh = torch.linalg.svd(weight.detach().to(torch.float64) @ factor, full_matrices=False)
    u, s, vh = u[:, :rank], s[:rank], vh[:rank]
    scale = positive_pivot_signs(u) * s.sqrt()
    # shape: (m, r)
    left = u * scale
    # right L = S^{1/2} V^T, i.e. L^T right^T = (S^{1/2} V^T)^T; shape: (r, n)
    right = torch.linalg.solve_triangular(factor.T, (scale.unsqueeze(1) * vh).T, upper=True).T
    return left.to(weight.dtype).contiguous(), right.to(weight.dtype).contiguous()


def asvd_method(weight: torch.Tensor, rank: int, settings: MethodSettings) -> Tuple[torch.Tensor, torch.Tensor]:
    """Method `"asvd"` of `elmo_compress.methods`: `whitened_truncated_svd` with `settings.statistics`."""
    if settings.statistics is None:
        raise CompressionSpecError(
            "method 'asvd' needs the second moment of the matrix's inputs (calibration statistics)"
        )
    return whitened_truncated_svd(weight, rank, settings.statistics)


def svd_output_spectrum(
    weight: torch.Tensor, second_moment: torch.Tensor, damping: float = DEFAULT_DAMPING
) -> torch.Tensor:
    """
    Per component of the plain SVD W = sum_i s_i u_i v_i^T, the square root of the expected output
    error it leaves when dropped: s_i sqrt(v_i^T (C + delta I) v_i) (the u_i are orthonormal, so the
    errors of dropped components add up). Truncating plain SVD at r leaves the sum of the squares of
    the values past r: the allocation predictor for `"svd"` (not sorted, unlike singular values).

    # Parameters

    weight : `torch.Tensor`
        Shape (m, n).
    second_moment : `torch.Tensor`
        Shape (n, n).
    damping : `float`, optional (default = `0.01`)

    # Returns

    values : `torch.Tensor`
        Shape (min(m, n),), float64, in the order of the singular values.
    """
    _, columns = matrix_shape(weight)
    check_second_moment(second_moment, columns)
    factor = input_whitening(second_moment, damping)
    # s: (k,), vh: (k, n)
    _, s, vh = torch.linalg.svd(weight.detach().to(torch.float64), full_matrices=False)
    return s * torch.linalg.vector_norm(vh @ factor, dim=1)
