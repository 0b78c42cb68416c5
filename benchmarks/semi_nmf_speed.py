"""
CPU speed of `semi_nmf` at ELMo size against the algorithm it replaced.

A seeded random 16384 x 512 float32 matrix with N(0, 1/512) entries (like ELMo's LSTM `W_h`)
is factorized at rank 64 with the default iterations and tolerance, once by the pre-change
algorithm (`_pre_change_semi_nmf`, a copy kept here only as the reference) and `--repeats`
times by the current `semi_nmf`, after a small warm-up of both. Prints the seconds (the median
for the new one), the speed-up, the iterations each ran, each result's relative error
`||W - F G||_F / ||W||_F`, and the largest entry of the difference of the two reconstructions
relative to `||W||_F`.

    python benchmarks/semi_nmf_speed.py [--repeats N] [--threads T]

Not a test: the timings depend on the machine and its load.
"""

import argparse
import math
import statistics
import sys
import time
from typing import List, Optional, Tuple

import torch

from elmo_compress.factorize.semi_nmf import DEFAULT_MAX_ITERATIONS, DEFAULT_TOLERANCE, semi_nmf

ROWS = 16384
COLUMNS = 512
RANK = 64
SEED = 0


# ---------------------------------------------------------------------------------------------
# PRE-CHANGE ALGORITHM (reference only). A faithful copy of `semi_nmf` as it was before the
# QR-reduced iterations (elmo_compress/factorize/semi_nmf.py at commit 3c10462), without the
# argument checks: every iteration works on the full (m, n) matrix, with three m*n*r products
# (F^T W, W pinv(G), F G for the explicit objective). Do not "fix" or speed it up.
# ---------------------------------------------------------------------------------------------

_PRE_CHANGE_INITIAL_OFFSET = 0.2


def _pre_change_positive_part(matrix: torch.Tensor) -> torch.Tensor:
    return matrix.clamp_min(0)


def _pre_change_negative_part(matrix: torch.Tensor) -> torch.Tensor:
    return (-matrix).clamp_min(0)


def _pre_change_initial_g(weight: torch.Tensor, rank: int) -> torch.Tensor:
    _, s, vh = torch.linalg.svd(weight, full_matrices=False)
    # shape: (r, n)
    scaled = s[:rank].sqrt().unsqueeze(1) * vh[:rank]
    keep_sign = _pre_change_positive_part(scaled).norm(dim=1) >= _pre_change_negative_part(scaled).norm(dim=1)
    # shape: (r, n)
    oriented = torch.where(keep_sign.unsqueeze(1), scaled, -scaled)
    positive = _pre_change_positive_part(oriented)
    # shape: (r,)
    nonzero_counts = (positive > 0).sum(dim=1)
    row_means = positive.sum(dim=1) / nonzero_counts.clamp_min(1)
    total_count = int(nonzero_counts.sum())
    fallback = float(positive.sum()) / total_count if total_count else 1.0
    row_means = torch.where(nonzero_counts > 0, row_means, torch.full_like(row_means, fallback))
    return positive + _PRE_CHANGE_INITIAL_OFFSET * row_means.unsqueeze(1)


def _pre_change_solve_f(weight: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    # pinv(g): (n, r)
    return weight @ torch.linalg.pinv(g)


def _pre_change_update_g(weight: torch.Tensor, f: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    # shape: (r, n)
    a = f.t() @ weight
    # shape: (r, r)
    b = f.t() @ f
    numerator = _pre_change_positive_part(a) + _pre_change_negative_part(b) @ g
    denominator = _pre_change_negative_part(a) + _pre_change_positive_part(b) @ g
    ratio = torch.where(denominator > 0, numerator / denominator, torch.zeros_like(numerator))
    return g * ratio.sqrt()


def _pre_change_objective(weight: torch.Tensor, f: torch.Tensor, g: torch.Tensor) -> float:
    return float(torch.linalg.matrix_norm(weight - f @ g) ** 2)


def _pre_change_semi_nmf(
    weight: torch.Tensor,
    rank: int,
    max_iterations: int = 300,
    tolerance: float = 1e-5,
    objective_history: Optional[List[float]] = None,
) -> Tuple[torch.Tensor, torch.Tensor]:
    """The pre-change `semi_nmf` (reference for this benchmark only; no argument checks)."""
    history: List[float] = [] if objective_history is None else objective_history
    with torch.no_grad():
        target = weight.detach().to(torch.float64)
        g = _pre_change_initial_g(target, rank)
        f = _pre_change_solve_f(target, g)
        previous = _pre_change_objective(target, f, g)
        history.append(previous)
        for _ in range(max_iterations):
            if previous == 0.0:
                break
            next_g = _pre_change_update_g(target, f, g)
            next_f = _pre_change_solve_f(target, next_g)
            current = _pre_change_objective(target, next_f, next_g)
            if not math.isfinite(current) or current > previous:
                break
            f, g = next_f, next_g
            history.append(current)
            if (previous - current) / previous < tolerance:
                break
            previous = current
    return f.to(weight.dtype).contiguous(), g.to(weight.dtype).clamp_min(0).contiguous()


# ---------------------------------------------------------------------------------------------
# End of the pre-change algorithm.
# ---------------------------------------------------------------------------------------------


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _elmo_like_matrix() -> torch.Tensor:
    """Shape (ROWS, COLUMNS), float32, N(0, 1/COLUMNS) entries from a fixed seed."""
    generator = torch.Generator().manual_seed(SEED)
    return torch.randn(ROWS, COLUMNS, generator=generator) / math.sqrt(COLUMNS)


def _relative_error(weight: torch.Tensor, f: torch.Tensor, g: torch.Tensor) -> float:
    """`||W - F G||_F / ||W||_F` of the returned (float32) factors, computed in float64."""
    target = weight.double()
    return float(torch.linalg.matrix_norm(target - f.double() @ g.double()) / torch.linalg.matrix_norm(target))


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].strip())
    parser.add_argument("--repeats", type=_positive_int, default=3, help="timed runs of the new semi_nmf (median)")
    parser.add_argument("--threads", type=_positive_int, default=2, help="torch.set_num_threads")
    arguments = parser.parse_args(argv)
    torch.set_num_threads(arguments.threads)

    weight = _elmo_like_matrix()
    print(
        f"semi_nmf {ROWS} x {COLUMNS} float32, rank {RANK}, max_iterations {DEFAULT_MAX_ITERATIONS}, "
        f"tolerance {DEFAULT_TOLERANCE:g}, {torch.get_num_threads()} threads, torch {torch.__version__}"
    )
    # Warm-up (not timed): the same kernels on a smaller matrix, a few iterations each.
    _pre_change_semi_nmf(weight[:2048], RANK, max_iterations=3)
    semi_nmf(weight[:2048], RANK, max_iterations=3)

    old_history: List[float] = []
    start = time.perf_counter()
    old_f, old_g = _pre_change_semi_nmf(
        weight, RANK, DEFAULT_MAX_ITERATIONS, DEFAULT_TOLERANCE, objective_history=old_history
    )
    old_seconds = time.perf_counter() - start

    new_seconds = []
    for _ in range(arguments.repeats):
        new_history: List[float] = []
        start = time.perf_counter()
        new_f, new_g = semi_nmf(weight, RANK, objective_history=new_history)
        new_seconds.append(time.perf_counter() - start)
    new_median = statistics.median(new_seconds)

    old_error = _relative_error(weight, old_f, old_g)
    new_error = _relative_error(weight, new_f, new_g)
    weight_norm = float(torch.linalg.matrix_norm(weight.double()))
    old_reconstruction = old_f.double() @ old_g.double()
    new_reconstruction = new_f.double() @ new_g.double()
    reconstruction_difference = float((old_reconstruction - new_reconstruction).abs().max()) / weight_norm
    old_iterations = len(old_history) - 1
    new_iterations = len(new_history) - 1
    new_runs = ", ".join(f"{seconds:.3f}" for seconds in new_seconds)

    print(
        f"seconds old: {old_seconds:.2f} (1 run; "
        f"{old_seconds / max(old_iterations, 1):.4f} s per iteration, setup included)"
    )
    print(
        f"seconds new: {new_median:.3f} (median of {arguments.repeats}: {new_runs}; "
        f"{new_median / max(new_iterations, 1):.4f} s per iteration, setup included)"
    )
    print(f"speed-up: {old_seconds / new_median:.1f}x")
    print(f"iterations old: {old_iterations}, new: {new_iterations}")
    error_difference = abs(old_error - new_error)
    print(f"relative error old: {old_error:.9f}, new: {new_error:.9f}, difference: {error_difference:.2e}")
    old_objective_error = math.sqrt(old_history[-1]) / weight_norm
    new_objective_error = math.sqrt(new_history[-1]) / weight_norm
    print(f"float64 objective, relative error old: {old_objective_error:.12f}, new: {new_objective_error:.12f}")
    print(f"max |F_old G_old - F_new G_new| / ||W||_F: {reconstruction_difference:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
