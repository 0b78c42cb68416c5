"""
Numbers that describe one weight matrix: its singular value spectrum, the energy a rank keeps, effective
ranks, the norms Winata et al. 2019 relate to compression loss, and the relative error of
truncated SVD and of magnitude pruning at the same parameter count, for every rank. Pure tensor math: nothing
here imports allennlp.
"""

import math
from dataclasses import dataclass
from typing import Dict, List, Sequence

import torch

from elmo_compress.factorize import low_rank_parameter_count, matrix_shape, rank_for_energy, singular_values

ENERGY_LEVELS = (0.9, 0.95, 0.99)


def energy_curve(spectrum: torch.Tensor) -> torch.Tensor:
    """
    Share of the squared Frobenius norm kept by each rank: entry `r - 1` is
    `sum(s[:r] ** 2) / sum(s ** 2)`; all zeros for a zero matrix.

    # Parameters

    spectrum : `torch.Tensor`
        Shape (k,), singular values in descending order.

    # Returns

    energy : `torch.Tensor`
        Shape (k,), float64, non-decreasing, last entry 1 (0 for a zero matrix).
    """
    # shape: (k,)
    cumulative = torch.cumsum(spectrum.to(torch.float64) ** 2, dim=0)
    total = float(cumulative[-1])
    return cumulative / total if total > 0.0 else torch.zeros_like(cumulative)


def svd_error_curve(spectrum: torch.Tensor) -> torch.Tensor:
    """
    Relative error `||W - W_r||_F / ||W||_F` of the truncated SVD at each rank `r = 1 .. k`, which by
    Eckart-Young-Mirsky is `sqrt(sum(s[r:] ** 2) / sum(s ** 2))`.

    # Parameters

    spectrum : `torch.Tensor`
        Shape (k,), singular values in descending order.

    # Returns

    errors : `torch.Tensor`
        Shape (k,), float64, non-increasing, last entry 0; all zeros for a zero matrix (as
        `CompressedMatrix.relative_error` has it).
    """
    energy = energy_curve(spectrum)
    if float(energy[-1]) == 0.0:
        return torch.zeros_like(energy)
    return (1.0 - energy).clamp(min=0.0).sqrt()


def prune_error_curve(weight: torch.Tensor, ranks: Sequence[int]) -> torch.Tensor:
    """
    Relative error `||W - P_r(W)||_F / ||W||_F` of magnitude pruning (`magnitude_prune`) that keeps as many
    entries as rank-`r` factors store, `r (m + n)` (capped at `m n`), for each `r` in `ranks`. One sort
    serves every rank: the error only depends on which magnitudes are dropped, not on how ties are broken.

    # Parameters

    weight : `torch.Tensor`
        Shape (m, n).
    ranks : `Sequence[int]`
        Ranks, each `1 <= r <= min(m, n)`.

    # Returns

    errors : `torch.Tensor`
        Shape (len(ranks),), float64; 0 for a zero matrix.
    """
    shape = matrix_shape(weight)
    # shape: (m * n,), squared magnitudes, largest first
    squares = torch.sort(weight.detach().to(torch.float64).reshape(-1) ** 2, descending=True).values
    kept_energy = torch.cumsum(squares, dim=0)
    total = float(kept_energy[-1])
    kept = torch.tensor([min(low_rank_parameter_count(shape, rank), squares.numel()) for rank in ranks])
    if total == 0.0:
        return torch.zeros(len(ranks), dtype=torch.float64)
    return ((total - kept_energy[kept - 1]).clamp(min=0.0) / total).sqrt()


def entropy_effective_rank(spectrum: torch.Tensor) -> float:
    """
    The effective rank of Roy & Vetterli (2007): `exp(H(p))` with `p = s / sum(s)` and `H` the Shannon
    entropy (natural log, `0 log 0 = 0`). It is `k` for `k` equal singular values and 1 for a rank-1 matrix;
    0 for a zero matrix.

    # Parameters

    spectrum : `torch.Tensor`
        Shape (k,), non-negative singular values.

    # Returns

    effective_rank : `float`
    """
    values = spectrum.to(torch.float64)
    total = float(values.sum())
    if total == 0.0:
        return 0.0
    shares = values[values > 0] / total
    return math.exp(float(-(shares * shares.log()).sum()))


def row_l1_norms(weight: torch.Tensor) -> torch.Tensor:
    """`sum_j |w_ij|` for each row `i` (each output unit), shape (m,), float64."""
    return weight.detach().to(torch.float64).abs().sum(dim=1)


@dataclass
class MatrixStatistics:
    """
    Everything `analyze_matrix` measures on one matrix (float64 throughout, lists of Python floats).

    # Parameters

    shape : `List[int]`
        `[m, n]`.
    singular_values : `List[float]`
        The `k = min(m, n)` singular values, descending.
    energy : `List[float]`
        `energy_curve`: share of `||W||_F^2` kept at rank 1 .. k.
    energy_ranks : `Dict[str, int]`
        Smallest rank keeping 90 / 95 / 99 % of the energy (`rank_for_energy`), keyed `"0.9"`, ...
    entropy_effective_rank : `float`
        `entropy_effective_rank`.
    stable_rank : `float`
        `||W||_F^2 / ||W||_2^2`.
    frobenius_norm : `float`
    spectral_norm : `float`
        Largest singular value.
    nuclear_norm : `float`
        Sum of the singular values.
    l1_norm : `float`
        Entrywise: `sum_ij |w_ij|`.
    row_l1_std : `float`
        Population standard deviation (divide by m) of the row L1 norms `sum_j |w_ij|`.
    ranks : `List[int]`
        1 .. k, the ranks of the two error curves.
    parameters : `List[int]`
        `r (m + n)` for each rank: the factors' size, and the entries pruning keeps (capped at `m n`).
    svd_error : `List[float]`
        `svd_error_curve`.
    prune_error : `List[float]`
        `prune_error_curve` at the same ranks.
    """

    shape: List[int]
    singular_values: List[float]
    energy: List[float]
    energy_ranks: Dict[str, int]
    entropy_effective_rank: float
    stable_rank: float
    frobenius_norm: float
    spectral_norm: float
    nuclear_norm: float
    l1_norm: float
    row_l1_std: float
    ranks: List[int]
    parameters: List[int]
    svd_error: List[float]
    prune_error: List[float]


def analyze_matrix(weight: torch.Tensor) -> MatrixStatistics:
    """
    Measure one matrix (see `MatrixStatistics`).

    # Parameters

    weight : `torch.Tensor`
        Shape (m, n), finite floating point.

    # Returns

    statistics : `MatrixStatistics`
    """
    shape = matrix_shape(weight)
    spectrum = singular_values(weight)
    ranks = list(range(1, min(shape) + 1))
    frobenius = float(spectrum.square().sum().sqrt())
    spectral = float(spectrum[0])
    return MatrixStatistics(
        shape=list(shape),
        singular_values=spectrum.tolist(),
        energy=energy_curve(spectrum).tolist(),
        energy_ranks={str(level): rank_for_energy(spectrum, level) for level in ENERGY_LEVELS},
        entropy_effective_rank=entropy_effective_rank(spectrum),
        stable_rank=frobenius**2 / spectral**2 if spectral > 0.0 else 0.0,
        frobenius_norm=frobenius,
        spectral_norm=spectral,
        nuclear_norm=float(spectrum.sum()),
        l1_norm=float(weight.detach().to(torch.float64).abs().sum()),
        row_l1_std=float(row_l1_norms(weight).std(unbiased=False)),
        ranks=ranks,
        parameters=[low_rank_parameter_count(shape, rank) for rank in ranks],
        svd_error=svd_error_curve(spectrum).tolist(),
        prune_error=prune_error_curve(weight, ranks).tolist(),
    )
