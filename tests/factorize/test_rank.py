import math

import pytest
import torch

from elmo_compress.errors import CompressionSpecError
from elmo_compress.factorize import RankSpec, rank_for_energy, singular_values, validate_rank

from tests.helpers import matrix_with_spectrum, random_matrix

SPECTRUM = [10.0, 6.0, 3.0, 2.0, 1.0, 0.5]
TOTAL = sum(value**2 for value in SPECTRUM)


def kept_energy(rank: int) -> float:
    return sum(value**2 for value in SPECTRUM[:rank]) / TOTAL


@pytest.mark.parametrize("energy", [0.3, 0.7, 0.75, 0.9, 0.97, 0.99, 0.999])
def test_rank_for_energy_is_the_smallest_sufficient_rank(energy: float) -> None:
    weight = matrix_with_spectrum(24, 12, SPECTRUM, seed=11)
    rank = rank_for_energy(singular_values(weight), energy)
    assert kept_energy(rank) >= energy - 1e-12
    assert rank == 1 or kept_energy(rank - 1) < energy
    assert RankSpec("energy", energy).resolve(weight) == rank


def test_rank_for_energy_exact_boundary() -> None:
    # 100 / (100 + 36 + ...) exactly: rank 1 reaches it, despite round-off in the division.
    assert rank_for_energy(torch.tensor(SPECTRUM), kept_energy(1)) == 1
    assert rank_for_energy(torch.tensor(SPECTRUM), kept_energy(3)) == 3


def test_energy_edge_cases() -> None:
    weight = matrix_with_spectrum(24, 12, SPECTRUM, seed=12)
    values = singular_values(weight)
    # Energy 1 stops at the last non-zero singular value; the zero tail (round-off) is not needed.
    assert rank_for_energy(values, 1.0) == len(SPECTRUM)
    assert rank_for_energy(torch.ones(5), 1.0) == 5
    assert rank_for_energy(values, 1e-9) == 1
    assert rank_for_energy(torch.zeros(4), 0.5) == 1


@pytest.mark.parametrize("energy", [0, 0.0, -0.1, 1.0001, 2, float("nan"), float("inf"), True, "0.5", None])
def test_bad_energy_is_rejected(energy) -> None:
    with pytest.raises(CompressionSpecError, match=r"energy must be a number in \(0, 1\]"):
        rank_for_energy(torch.ones(3), energy)


def test_rank_for_energy_needs_a_vector() -> None:
    with pytest.raises(CompressionSpecError, match="non-empty 1-D"):
        rank_for_energy(torch.ones(2, 2), 0.5)
    with pytest.raises(CompressionSpecError, match="non-empty 1-D"):
        rank_for_energy(torch.ones(0), 0.5)


@pytest.mark.parametrize(
    "fraction, expected", [(0.25, 4), (0.26, 5), (1.0, 16), (1e-6, 1), (0.5, 8), (0.0625, 1), (0.1, 2)]
)
def test_fraction_rounds_up_of_min_dimension(fraction: float, expected: int) -> None:
    weight = random_matrix(40, 16, seed=13)
    assert RankSpec("fraction", fraction).resolve(weight) == expected
    assert RankSpec("fraction", fraction).resolve(weight.t()) == expected


def test_fraction_ignores_round_off_above_an_integer() -> None:
    # 0.07 * 100 == 7.000000000000001 in floating point.
    assert math.ceil(0.07 * 100) == 8
    assert RankSpec("fraction", 0.07).resolve(random_matrix(100, 120)) == 7


@pytest.mark.parametrize("fraction", [0, -0.5, 1.5, True, "0.5", float("nan")])
def test_bad_fraction_is_rejected(fraction) -> None:
    with pytest.raises(CompressionSpecError, match=r"fraction must be a number in \(0, 1\]"):
        RankSpec.from_dict({"fraction": fraction})


def test_fixed_rank_resolves_against_the_matrix() -> None:
    weight = random_matrix(256, 16)
    assert RankSpec("rank", 16).resolve(weight) == 16
    with pytest.raises(CompressionSpecError, match=r"min\(m, n\) = 16 for a 256 x 16 matrix, got 17"):
        RankSpec("rank", 17).resolve(weight)


def test_validate_rank() -> None:
    assert validate_rank(3, (5, 4)) == 3
    with pytest.raises(
        CompressionSpecError, match=r"rank must be between 1 and min\(m, n\) = 16 for a 256 x 16 matrix, got 0"
    ):
        validate_rank(0, (256, 16))
    with pytest.raises(CompressionSpecError, match=r"rank must be an int, got True \(bool\)"):
        validate_rank(True, (5, 4))


@pytest.mark.parametrize(
    "block, expected",
    [
        ({"rank": 64}, RankSpec("rank", 64)),
        ({"fraction": 0.25}, RankSpec("fraction", 0.25)),
        ({"energy": 1}, RankSpec("energy", 1.0)),
    ],
)
def test_rank_spec_round_trip(block, expected: RankSpec) -> None:
    spec = RankSpec.from_dict(block)
    assert spec == expected
    assert RankSpec.from_dict(spec.to_dict()) == spec


def test_share_values_are_stored_as_floats() -> None:
    spec = RankSpec.from_dict({"energy": 1})
    assert isinstance(spec.value, float) and spec.to_dict() == {"energy": 1.0}


@pytest.mark.parametrize(
    "block, message",
    [
        ({}, r"needs exactly one of 'rank', 'fraction', 'energy', got none"),
        ({"rank": 4, "energy": 0.9}, r"got 'rank' and 'energy'"),
        ({"ranks": 4}, r"unknown key 'ranks'"),
        ({"rank": 0}, r"rank must be an int >= 1, got 0"),
        ({"rank": -3}, r"rank must be an int >= 1, got -3"),
        ({"rank": 4.0}, r"rank must be an int >= 1, got 4.0"),
        ({"rank": True}, r"rank must be an int >= 1, got True"),
        ({"energy": 0}, r"energy must be a number in \(0, 1\], got 0"),
        (64, r"must be an object"),
    ],
)
def test_bad_rank_spec_blocks(block, message: str) -> None:
    with pytest.raises(CompressionSpecError, match=message):
        RankSpec.from_dict(block)


def test_unknown_kind_is_rejected() -> None:
    with pytest.raises(CompressionSpecError, match="unknown rank kind 'percent'"):
        RankSpec("percent", 0.5)


def test_describe() -> None:
    assert RankSpec("rank", 64).describe() == "rank 64"
    assert RankSpec("fraction", 0.25).describe() == "fraction 0.25"
    assert RankSpec("energy", 0.9).describe() == "energy 0.9"
