"""
Semi-nonnegative matrix factorization (Ding, Li & Jordan 2010, "Convex and Semi-Nonnegative
Matrix Factorizations", IEEE TPAMI 32(1)): `W ~ F @ G` with `F` of any sign and `G >= 0`.

The paper writes `X ~ F G^T` with a tall non-negative `G`; here `G` is stored transposed,
(r, n), so that `F @ G` has the same layout as `truncated_svd`'s `left @ right`.

A tall `W` (m > n, like ELMo's 16384 x 512 LSTM matrices) is first reduced to the n x n
triangular factor `R` of `W = Q R`; the iterations then run on `R`, at `O(r n^2)` instead of
`O(r m n)` per iteration, and `F` is formed once at the end (see `_reduced`).
"""

import math
from typing import Callable, List, Optional, Tuple

import torch

from elmo_compress.errors import CompressionSpecError
from elmo_compress.factorize.checks import is_int, is_real, matrix_shape, validate_rank
from elmo_compress.factorize.settings import DEFAULT_MAX_ITERATIONS, DEFAULT_TOLERANCE, MethodSettings

# Share of a row's mean non-zero entry added to every entry of the initial G, so that no entry
# starts at 0 (multiplicative updates cannot move an entry away from 0). Ding, Li & Jordan add
# 0.2 to a 0/1 cluster-indicator matrix; this is the same offset relative to the row's scale.
INITIAL_OFFSET = 0.2


def _positive_part(matrix: torch.Tensor) -> torch.Tensor:
    """`X+ = (|X| + X) / 2`, elementwise."""
    return matrix.clamp_min(0)


def _negative_part(matrix: torch.Tensor) -> torch.Tensor:
    """`X- = (|X| - X) / 2`, elementwise, so that `X = X+ - X-` with both parts >= 0."""
    return (-matrix).clamp_min(0)


def _initial_g(weight: torch.Tensor, rank: int) -> torch.Tensor:
    """
    A deterministic, strictly positive starting `G` from the truncated SVD `W = U S V^T`.

    Row k starts as `sqrt(s_k) v_k` with the sign of `v_k` chosen so that its positive part has
    the larger norm; the negative entries are dropped and `INITIAL_OFFSET` times the mean of the
    row's non-zero entries is added to every entry. A row with no non-zero entry (s_k = 0) gets
    the offset computed over the whole matrix instead, or 1 for a zero `W`.

    # Parameters

    weight : `torch.Tensor`
        Shape (m, n), float64: `W`, or the reduced `R` of `_reduced`, which has the same singular
        values and right singular vectors.
    rank : `int`
        Number of rows of `G`, already validated.

    # Returns

    g : `torch.Tensor`
        Shape (rank, n), float64, every entry > 0. Choosing each sign by the larger positive
        part makes the start independent of the sign the SVD routine happens to return.
    """
    _, s, vh = torch.linalg.svd(weight, full_matrices=False)
    # shape: (r, n)
    scaled = s[:rank].sqrt().unsqueeze(1) * vh[:rank]
    keep_sign = _positive_part(scaled).norm(dim=1) >= _negative_part(scaled).norm(dim=1)
    # shape: (r, n)
    oriented = torch.where(keep_sign.unsqueeze(1), scaled, -scaled)
    positive = _positive_part(oriented)
    # shape: (r,)
    nonzero_counts = (positive > 0).sum(dim=1)
    row_means = positive.sum(dim=1) / nonzero_counts.clamp_min(1)
    total_count = int(nonzero_counts.sum())
    fallback = float(positive.sum()) / total_count if total_count else 1.0
    row_means = torch.where(nonzero_counts > 0, row_means, torch.full_like(row_means, fallback))
    return positive + INITIAL_OFFSET * row_means.unsqueeze(1)


def _reduced(weight: torch.Tensor) -> torch.Tensor:
    """
    A matrix `R` with `R^T R = W^T W` and at most as many rows as `W` has columns, on which the
    Semi-NMF iterations give the same `G`s as on `W` itself (in exact arithmetic; to round-off
    in floating point).

    Everything the iterations use depends on `W` only through `W^T W`: with `P = G^+` (n, r),
    the least-squares `F = W P` gives `A = F^T W = P^T (W^T W)`, `B = F^T F = P^T (W^T W) P`
    and `||W - F G||_F^2 = ||W (I - P G)||_F^2 = tr((I - P G)^T W^T W (I - P G))`, and the
    starting `G` uses the singular values and right singular vectors of `W`, which are those of
    any `R` with `R^T R = W^T W` (up to the signs `_initial_g` fixes). So for a tall `W`
    (m > n) the iterations run on the n x n triangular factor of the thin QR decomposition
    `W = Q R`, with `F_R = R P = Q^T F` in place of `F`; only the final `F = W P` needs `W`.

    Round-off: since `||W X||_F = ||R X||_F` for every X (Q has orthonormal columns), the
    objective is still formed as a residual, `||R - F_R G||_F^2`: never negative, and accurate
    relative to its own size as `||W - F G||_F^2` is, so the rule that discards an iteration
    whose objective increases behaves as on `W`. Working with the Gram matrix `K = W^T W`
    instead would square `W`'s condition number, and its trace form
    `tr(K) - 2 <A, G> + <B, G G^T>` cancels down to noise of order `eps tr(K)`: on an exactly
    representable 200 x 40 rank-3 matrix it stopped near 1e-13 relative (where that noise trips
    the increase check), while the iterations on `W` or on `R` went on to about 1e-22.

    # Parameters

    weight : `torch.Tensor`
        Shape (m, n), float64.

    # Returns

    reduced : `torch.Tensor`
        Shape (n, n) upper triangular when m > n; otherwise `weight` itself, (m, n), as a QR
        factor would be no smaller.
    """
    rows, columns = weight.shape
    if rows <= columns:
        return weight
    # shape: (n, n); mode "r" skips forming Q.
    return torch.linalg.qr(weight, mode="r").R


def _solve_f(weight: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """
    The least-squares `F` for a fixed `G`: `argmin_F ||W - F G||_F`, i.e. `F = W G^+` with the
    SVD-based pseudo-inverse (the minimum-norm solution when `G` is rank deficient; equal to
    the paper's `W G^T (G G^T)^-1` otherwise).

    # Parameters

    weight : `torch.Tensor`
        Shape (m, n): `W`, or the reduced `R` of `_reduced`, (n, n).
    g : `torch.Tensor`
        Shape (r, n).

    # Returns

    f : `torch.Tensor`
        Shape (m, r); `R G^+` (n, r) for the reduced `R`.
    """
    # pinv(g): (n, r)
    return weight @ torch.linalg.pinv(g)


def _update_g(weight: torch.Tensor, f: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """
    One multiplicative update of `G` for a fixed `F`, which never increases `||W - F G||_F^2`
    (Ding, Li & Jordan 2010, Theorem 1):
    `G <- G * sqrt((A+ + B- G) / (A- + B+ G))` with `A = F^T W` and `B = F^T F`.

    A denominator entry is 0 only when `F`'s matching column is 0 (then the numerator is 0 too)
    or when the entry of `G` is already 0 (and stays 0); the ratio is taken as 0 there.

    # Parameters

    weight : `torch.Tensor`
        Shape (m, n): `W`, or the reduced `R` of `_reduced`, (n, n).
    f : `torch.Tensor`
        Shape (m, r): `_solve_f(weight, g)` for the same `weight`.
    g : `torch.Tensor`
        Shape (r, n), >= 0.

    # Returns

    g : `torch.Tensor`
        Shape (r, n), >= 0.
    """
    # shape: (r, n)
    a = f.t() @ weight
    # shape: (r, r)
    b = f.t() @ f
    numerator = _positive_part(a) + _negative_part(b) @ g
    denominator = _negative_part(a) + _positive_part(b) @ g
    ratio = torch.where(denominator > 0, numerator / denominator, torch.zeros_like(numerator))
    return g * ratio.sqrt()


def _objective(weight: torch.Tensor, f: torch.Tensor, g: torch.Tensor) -> float:
    """`||W - F G||_F^2`, formed as the residual's norm (also for the reduced `R`: see `_reduced`)."""
    return float(torch.linalg.matrix_norm(weight - f @ g) ** 2)


def _validate_iterations(max_iterations: int, tolerance: float) -> None:
    if not is_int(max_iterations) or max_iterations < 1:
        raise CompressionSpecError(f"max_iterations must be an int >= 1, got {max_iterations!r}")
    if not is_real(tolerance) or tolerance < 0:
        raise CompressionSpecError(f"tolerance must be a finite number >= 0, got {tolerance!r}")


def semi_nmf(
    weight: torch.Tensor,
    rank: int,
    max_iterations: int = DEFAULT_MAX_ITERATIONS,
    tolerance: float = DEFAULT_TOLERANCE,
    objective_history: Optional[List[float]] = None,
    on_iteration: Optional[Callable[[int, float], None]] = None,
) -> Tuple[torch.Tensor, torch.Tensor]:
    """
    Semi-NMF of `weight` (m x n): `weight ~ F @ G` with `F` (m x r) of any sign and `G` (r x n)
    elementwise non-negative, minimizing `||weight - F G||_F^2` (Ding, Li & Jordan 2010).

    The start is deterministic (no random numbers, so no seed): `G` from the truncated SVD (see
    `_initial_g`), then `F` by least squares. Each iteration updates `G` multiplicatively with
    `F` fixed, then solves `F` exactly with `G` fixed; neither step can increase the objective.
    Iteration stops when the relative improvement `(previous - current) / previous` falls
    below `tolerance`, when the objective reaches 0, or after `max_iterations` iterations. The
    work is done in float64 without gradients. Should round-off ever make an iteration increase
    the objective, that iteration is discarded and the previous factors are returned, so the
    recorded objectives never increase. A tall `weight` (m > n) is first reduced to the n x n
    factor `R` of `weight = Q R` and the iterations run on `R`, which gives the same iterates
    and objectives at `O(r n^2)` per iteration instead of `O(r m n)` (see `_reduced`); `F` is
    formed from `weight` once, at the end.

    At the same rank the error is never below `truncated_svd`'s (Eckart-Young-Mirsky); the
    factors cost the same `r (m + n)` parameters.

    # Parameters

    weight : `torch.Tensor`
        Shape (m, n), floating point, any sign.
    rank : `int`
        Inner size r, `1 <= rank <= min(m, n)`.
    max_iterations : `int`, optional (default = `DEFAULT_MAX_ITERATIONS`, 300)
        Most iterations to run, >= 1.
    tolerance : `float`, optional (default = `DEFAULT_TOLERANCE`, 1e-5)
        Stop once an iteration improves the objective by a smaller share than this, >= 0.
    objective_history : `List[float]`, optional (default = `None`)
        When given, `||weight - F G||_F^2` is appended to it for the starting factors and then
        after every kept iteration.
    on_iteration : `Callable[[int, float], None]`, optional (default = `None`)
        When given, called after every kept iteration with the iteration's number (from 1) and
        its objective `||weight - F G||_F^2`, e.g. to report progress. Not called for the start
        or for a discarded iteration.

    # Returns

    f : `torch.Tensor`
        Shape (m, rank), in `weight`'s dtype, contiguous.
    g : `torch.Tensor`
        Shape (rank, n), in `weight`'s dtype, contiguous, every entry >= 0.
    """
    validate_rank(rank, matrix_shape(weight))
    _validate_iterations(max_iterations, tolerance)
    if on_iteration is not None and not callable(on_iteration):
        raise TypeError(f"on_iteration must be callable or None, got {type(on_iteration).__name__}")
    history: List[float] = [] if objective_history is None else objective_history
    with torch.no_grad():
        target = weight.detach().to(torch.float64)
        # shape: (min(m, n), n); F below is this reduced F_R = R P, (min(m, n), r).
        reduced = _reduced(target)
        g = _initial_g(reduced, rank)
        f = _solve_f(reduced, g)
        previous = _objective(reduced, f, g)
        history.append(previous)
        for iteration in range(1, max_iterations + 1):
            if previous == 0.0:
                break
            next_g = _update_g(reduced, f, g)
            next_f = _solve_f(reduced, next_g)
            current = _objective(reduced, next_f, next_g)
            if not math.isfinite(current) or current > previous:
                break
            f, g = next_f, next_g
            history.append(current)
            if on_iteration is not None:
                on_iteration(iteration, current)
            if (previous - current) / previous < tolerance:
                break
            previous = current
        if reduced is not target:
            # shape: (m, r)
            f = _solve_f(target, g)
    return f.to(weight.dtype).contiguous(), g.to(weight.dtype).clamp_min(0).contiguous()


def semi_nmf_method(weight: torch.Tensor, rank: int, settings: MethodSettings) -> Tuple[torch.Tensor, torch.Tensor]:
    """Method `"semi_nmf"` of `elmo_compress.methods`: `semi_nmf` with the settings' stopping rule and progress."""
    return semi_nmf(
        weight,
        rank,
        max_iterations=settings.max_iterations,
        tolerance=settings.tolerance,
        on_iteration=settings.on_iteration,
    )
