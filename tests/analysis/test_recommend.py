import math
from typing import Dict, List, Tuple

import pytest
import torch

from elmo_compress.analysis import Budget, recommend_ranks
from elmo_compress.analysis.spectrum import energy_curve, svd_error_curve
from elmo_compress.errors import CompressionSpecError
from elmo_compress.factorize import CompressionSpec, singular_values
from elmo_compress.weights import compress_lstm_matrices

from tests.helpers import matrix_with_spectrum

Key = Tuple[int, int, str]
ROWS, COLUMNS = 48, 12


def _spectrum(squares: List[float]) -> List[float]:
    """Singular values from squared ones given as shares of 100."""
    return [math.sqrt(square) for square in squares]


# Cumulative energy (%) per (layer, direction, target), chosen off every boundary the tests use:
#   a: 60 75 85 92 96 98.5 99.5 100    -> energy 0.9: rank 4, error 0.25 (energy 0.9375): rank 5
#   b: 40 60 75 86 93.5 97 99 100      -> energy 0.9: rank 5, error 0.25: rank 6
#   c: 80 91 95.5 98 99.2 100          -> energy 0.9: rank 2, error 0.25: rank 3
#   d: 30 55 70 80 87 92 96 98.5 100   -> energy 0.9: rank 6, error 0.25: rank 7
SPECTRA = {
    "a": _spectrum([60, 15, 10, 7, 4, 2.5, 1, 0.5]),
    "b": _spectrum([40, 20, 15, 11, 7.5, 3.5, 2, 1]),
    "c": _spectrum([80, 11, 4.5, 2.5, 1.2, 0.8]),
    "d": _spectrum([30, 25, 15, 10, 7, 5, 4, 2.5, 1.5]),
}
LAYOUT = {
    (0, 0, "input"): "a",
    (0, 1, "input"): "b",
    (0, 0, "recurrent"): "c",
    (0, 1, "recurrent"): "c",
    (1, 0, "input"): "c",
    (1, 1, "input"): "a",
    (1, 0, "recurrent"): "d",
    (1, 1, "recurrent"): "b",
}


@pytest.fixture(scope="module")
def matrices() -> Dict[Key, torch.Tensor]:
    return {
        key: matrix_with_spectrum(ROWS, COLUMNS, SPECTRA[name], seed=10 * index).float()
        for index, (key, name) in enumerate(sorted(LAYOUT.items()))
    }


def _ranks_by_key(recommendation) -> Dict[Key, Tuple[int, int]]:
    return {(m.layer, m.direction, m.target): (m.minimal_rank, m.rank) for m in recommendation.matrices}


def test_energy_budget_ranks_are_the_known_minimal_ones(matrices) -> None:
    recommendation = recommend_ranks(matrices, Budget("energy", 0.9))
    minimal = {"a": 4, "b": 5, "c": 2, "d": 6}
    ranks = _ranks_by_key(recommendation)
    assert {key: ranks[key][0] for key in LAYOUT} == {key: minimal[name] for key, name in LAYOUT.items()}
    # One rank per (layer, target): the larger direction's.
    expected_block = {(0, "input"): 5, (0, "recurrent"): 2, (1, "input"): 4, (1, "recurrent"): 6}
    assert {key: ranks[key][1] for key in LAYOUT} == {key: expected_block[(key[0], key[2])] for key in LAYOUT}
    assert recommendation.spec.to_dict() == {
        "method": "svd",
        "target": "both",
        "rank": 6,
        "layers": {"0": {"input": {"rank": 5}, "recurrent": {"rank": 2}}, "1": {"input": {"rank": 4}}},
        "seed": 0,
        "max_iterations": 300,
        "tolerance": 1e-05,
    }


@pytest.mark.parametrize("budget", [Budget("energy", 0.9), Budget("energy", 0.965), Budget("error", 0.25)])
def test_block_ranks_meet_the_budget_and_one_less_does_not(matrices, budget: Budget) -> None:
    recommendation = recommend_ranks(matrices, budget)
    for (layer, target), keys in _groups().items():
        rank = recommendation.spec.rank_spec_for(layer, target).value
        spectra = [singular_values(matrices[key]) for key in keys]
        assert all(_meets(budget, spectrum, rank) for spectrum in spectra)
        if rank > 1:
            assert not all(_meets(budget, spectrum, rank - 1) for spectrum in spectra)


def _groups() -> Dict[Tuple[int, str], List[Key]]:
    groups: Dict[Tuple[int, str], List[Key]] = {}
    for key in sorted(LAYOUT):
        groups.setdefault((key[0], key[2]), []).append(key)
    return groups


def _meets(budget: Budget, spectrum: torch.Tensor, rank: int) -> bool:
    if budget.kind == "energy":
        return float(energy_curve(spectrum)[rank - 1]) >= budget.value
    return float(svd_error_curve(spectrum)[rank - 1]) <= budget.value


def test_error_budget_holds_when_the_block_is_applied(matrices) -> None:
    recommendation = recommend_ranks(matrices, Budget("error", 0.25))
    spec = CompressionSpec.from_dict(recommendation.spec.to_dict())
    compressed, reports = compress_lstm_matrices(matrices, spec)
    for report, row in zip(reports, recommendation.matrices):
        assert report.rank == row.rank
        assert report.relative_error <= 0.25 + 1e-6
        assert report.relative_error == pytest.approx(row.svd_error, abs=1e-6)
    layer_1_recurrent = [row for row in recommendation.matrices if (row.layer, row.target) == (1, "recurrent")]
    assert [(row.minimal_rank, row.rank) for row in layer_1_recurrent] == [(7, 7), (6, 7)]


def test_parameter_and_mac_counts(matrices) -> None:
    recommendation = recommend_ranks(matrices, Budget("energy", 0.9), target="recurrent")
    # Recurrent ranks 2, 2 (layer 0) and 6, 6 (layer 1); inputs stay dense.
    expected_after = 4 * ROWS * COLUMNS + (2 + 2 + 6 + 6) * (ROWS + COLUMNS)
    assert recommendation.parameters_before == recommendation.macs_before == 8 * ROWS * COLUMNS
    assert recommendation.parameters_after == recommendation.macs_after == expected_after
    assert [row.target for row in recommendation.matrices] == ["recurrent"] * 4
    block = recommendation.spec.to_dict()
    assert (
        block["target"] == "recurrent"
        and block["rank"] == 6
        and block["layers"] == {"0": {"recurrent": {"rank": 2}}}
    )
    compressed, _ = compress_lstm_matrices(matrices, recommendation.spec)
    assert sum(matrix.num_parameters() for matrix in compressed.values()) == expected_after


def test_loosest_error_budget_gives_rank_one(matrices) -> None:
    recommendation = recommend_ranks(matrices, Budget("error", 1.0))
    assert recommendation.spec.to_dict()["rank"] == 1 and "layers" not in recommendation.spec.to_dict()


@pytest.mark.parametrize("value", [0, 0.0, -0.1, 1.5, float("nan"), "0.5", True])
@pytest.mark.parametrize("kind", ["energy", "error"])
def test_budget_outside_unit_interval_is_rejected(kind: str, value) -> None:
    with pytest.raises(CompressionSpecError, match=f"{kind} budget must be a number in \\(0, 1\\]"):
        Budget(kind, value)


def test_unknown_budget_kind_and_target_are_rejected(matrices) -> None:
    with pytest.raises(CompressionSpecError, match="unknown budget 'size'"):
        Budget("size", 0.5)
    with pytest.raises(CompressionSpecError, match="unknown compression target 'gates'"):
        recommend_ranks(matrices, Budget("energy", 0.9), target="gates")
