import math

import pytest
import torch

from elmo_compress.analysis import analyze_matrix, entropy_effective_rank
from elmo_compress.analysis.spectrum import prune_error_curve
from elmo_compress.errors import CompressionSpecError
from elmo_compress.factorize import compress_matrix

from tests.helpers import matrix_with_spectrum, random_matrix

# Squared singular values summing to 100: cumulative energy 50, 70, 80, 88, 93, 97, 98.5, 99.5, 100 (%),
# so the 90 / 95 / 99 % energy ranks are 5, 6 and 8, none on a boundary.
SQUARES = [50.0, 20.0, 10.0, 8.0, 5.0, 4.0, 1.5, 1.0, 0.5]
SPECTRUM = [math.sqrt(square) for square in SQUARES]


@pytest.fixture(scope="module")
def known() -> torch.Tensor:
    """40 x 12, rank 9, singular values SPECTRUM, random orthogonal U and V."""
    return matrix_with_spectrum(40, 12, SPECTRUM, seed=5)


def test_spectrum_and_energy_of_a_known_matrix(known: torch.Tensor) -> None:
    stats = analyze_matrix(known)
    assert stats.shape == [40, 12] and stats.ranks == list(range(1, 13))
    assert stats.singular_values[:9] == pytest.approx(SPECTRUM, abs=1e-12)
    assert max(stats.singular_values[9:]) < 1e-12
    cumulative = [sum(SQUARES[:rank]) / 100.0 for rank in range(1, 13)]
    assert stats.energy == pytest.approx(cumulative, abs=1e-12)
    assert stats.energy_ranks == {"0.9": 5, "0.95": 6, "0.99": 8}


def test_effective_ranks_and_norms_of_a_known_matrix(known: torch.Tensor) -> None:
    stats = analyze_matrix(known)
    shares = [value / sum(SPECTRUM) for value in SPECTRUM]
    assert stats.entropy_effective_rank == pytest.approx(
        math.exp(-sum(p * math.log(p) for p in shares)), rel=1e-10
    )
    assert stats.stable_rank == pytest.approx(100.0 / 50.0, rel=1e-12)
    assert stats.nuclear_norm == pytest.approx(sum(SPECTRUM), rel=1e-12)
    assert stats.frobenius_norm == pytest.approx(10.0, rel=1e-12)
    assert stats.spectral_norm == pytest.approx(math.sqrt(50.0), rel=1e-12)
    assert stats.l1_norm == pytest.approx(float(known.abs().sum()), rel=1e-12)


@pytest.mark.parametrize(
    "values,expected", [([2.0] * 7, 7.0), ([3.0], 1.0), ([5.0, 0.0, 0.0], 1.0), ([0.0, 0.0], 0.0)]
)
def test_entropy_effective_rank_extremes(values, expected) -> None:
    assert entropy_effective_rank(torch.tensor(values)) == pytest.approx(expected, rel=1e-12)


def test_l1_norm_and_row_l1_spread_by_hand() -> None:
    # Row L1 norms 3, 3, 0: mean 2, population variance (1 + 1 + 4) / 3 = 2.
    weight = torch.tensor([[1.0, -2.0], [3.0, 0.0], [0.0, 0.0]])
    stats = analyze_matrix(weight)
    assert stats.l1_norm == 6.0
    assert stats.row_l1_std == pytest.approx(math.sqrt(2.0), rel=1e-12)
    # Singular values of [[1, -2], [3, 0]] padded with a zero row: eigenvalues of W^T W = [[10, -2], [-2, 4]].
    eigenvalues = [7.0 + math.sqrt(13.0), 7.0 - math.sqrt(13.0)]
    assert stats.nuclear_norm == pytest.approx(sum(math.sqrt(value) for value in eigenvalues), rel=1e-12)


def test_svd_error_is_the_tail_of_the_spectrum_and_what_truncated_svd_achieves(known: torch.Tensor) -> None:
    stats = analyze_matrix(known)
    tails = [math.sqrt(sum(SQUARES[rank:]) / 100.0) for rank in range(1, 13)]
    assert stats.svd_error == pytest.approx(tails, abs=1e-12)
    assert stats.svd_error[8:] == pytest.approx([0.0] * 4, abs=1e-7)
    for rank in (1, 4, 9):
        assert stats.svd_error[rank - 1] == pytest.approx(
            compress_matrix(known, "svd", rank).relative_error(known), abs=1e-10
        )


def test_prune_error_matches_magnitude_pruning_at_equal_size() -> None:
    weight = random_matrix(30, 10, seed=7)
    stats = analyze_matrix(weight)
    assert stats.parameters == [40 * rank for rank in range(1, 11)]
    for rank in stats.ranks:
        pruned = compress_matrix(weight, "prune", rank)
        assert pruned.num_parameters() == min(40 * rank, 300)
        assert stats.prune_error[rank - 1] == pytest.approx(pruned.relative_error(weight), abs=1e-12)
    # From rank 8 on, r (m + n) >= m n: pruning keeps every entry.
    assert stats.prune_error[7:] == [0.0, 0.0, 0.0]
    assert stats.prune_error[6] > 0.0


def test_equal_size_errors_on_a_sparse_and_on_a_low_rank_matrix() -> None:
    # One entry: pruning keeps it exactly at rank 1 while SVD is exact too. A rank-1 dense matrix with
    # entries of equal magnitude: SVD is exact at rank 1, pruning keeps r (m + n) of m n equal squares.
    single = torch.zeros(6, 4, dtype=torch.float64)
    single[2, 3] = 5.0
    assert analyze_matrix(single).prune_error[0] == 0.0 and analyze_matrix(single).svd_error[0] == 0.0
    signs = torch.tensor([1.0, -1.0, 1.0, 1.0, -1.0, 1.0], dtype=torch.float64)
    dense = torch.outer(signs, torch.ones(4, dtype=torch.float64))
    stats = analyze_matrix(dense)
    assert stats.svd_error[0] == pytest.approx(0.0, abs=1e-7)
    assert stats.prune_error[0] == pytest.approx(math.sqrt((24 - 10) / 24), abs=1e-12)
    assert prune_error_curve(dense, [2]).tolist() == [pytest.approx(math.sqrt(4 / 24), abs=1e-12)]


def test_zero_matrix_gives_zeros_not_nan() -> None:
    stats = analyze_matrix(torch.zeros(5, 3))
    assert stats.energy == [0.0, 0.0, 0.0] and stats.svd_error == [0.0, 0.0, 0.0]
    assert stats.prune_error == [0.0, 0.0, 0.0]
    assert stats.entropy_effective_rank == 0.0 and stats.stable_rank == 0.0 and stats.energy_ranks["0.9"] == 1


def test_non_finite_matrix_is_rejected() -> None:
    with pytest.raises(CompressionSpecError, match="NaN"):
        analyze_matrix(torch.tensor([[1.0, float("nan")], [0.0, 1.0]]))
