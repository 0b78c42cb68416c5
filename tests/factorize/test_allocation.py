"""Budgeted rank allocation: budget respected, optimal on small cases (checked by exhaustive search)."""

import itertools

import pytest
import torch

from elmo_compress.errors import CompressionSpecError
from elmo_compress.factorize.allocation import (
    allocate_ranks,
    largest_useful_rank,
    minimum_allocation,
    predicted_error,
)


def spectra_of(values):
    return {key: torch.tensor(spectrum, dtype=torch.float64) for key, spectrum in values.items()}


def test_equal_costs_give_the_exhaustive_optimum() -> None:
    spectra = spectra_of(
        {"a": [5.0, 4.0, 1.0, 0.5, 0.1], "b": [3.0, 2.9, 2.8, 0.2, 0.1], "c": [9.0, 0.3, 0.2, 0.1, 0.0]}
    )
    shapes = {key: (12, 5) for key in spectra}  # largest useful rank 3
    for steps in range(3, 10):
        budget = steps * 17
        ranks = allocate_ranks(spectra, shapes, budget)
        assert sum(rank * 17 for rank in ranks.values()) <= budget
        best = min(
            predicted_error(spectra, dict(zip("abc", choice)))
            for choice in itertools.product(range(1, 4), repeat=3)
            if sum(choice) * 17 <= budget
        )
        assert predicted_error(spectra, ranks) == pytest.approx(best, abs=1e-12)


def test_budget_is_met_exactly_or_below_with_unequal_costs() -> None:
    generator = torch.Generator().manual_seed(0)
    shapes = {"wide": (40, 10), "tall": (30, 20), "small": (8, 8)}
    spectra = {
        key: torch.sort(torch.rand(min(shape), generator=generator, dtype=torch.float64), descending=True).values
        for key, shape in shapes.items()
    }
    for budget in range(minimum_allocation(shapes), 2000, 37):
        ranks = allocate_ranks(spectra, shapes, budget)
        used = sum(rank * sum(shapes[key]) for key, rank in ranks.items())
        assert used <= budget
        assert all(1 <= rank <= largest_useful_rank(shapes[key]) for key, rank in ranks.items())
        # nothing else fits: every matrix below its cap is more expensive than what is left
        left = budget - used
        assert all(
            sum(shapes[key]) > left for key, rank in ranks.items() if rank < largest_useful_rank(shapes[key])
        )


def test_error_weights_steer_the_allocation() -> None:
    spectra = spectra_of({"a": [1.0, 0.9, 0.8], "b": [1.0, 0.5, 0.4]})
    shapes = {"a": (12, 3), "b": (12, 3)}
    assert allocate_ranks(spectra, shapes, 3 * 15) == {"a": 2, "b": 1}
    assert allocate_ranks(spectra, shapes, 3 * 15, error_weights={"a": 1.0, "b": 10.0}) == {"a": 1, "b": 2}


def test_budget_below_rank_one_everywhere_is_refused() -> None:
    spectra = spectra_of({"a": [1.0, 0.5], "b": [1.0, 0.5]})
    shapes = {"a": (4, 2), "b": (4, 2)}
    with pytest.raises(CompressionSpecError, match=r"below the smallest allocation, rank 1 everywhere \(12\)"):
        allocate_ranks(spectra, shapes, 11)
    with pytest.raises(CompressionSpecError, match="error weights must be finite and > 0"):
        allocate_ranks(spectra, shapes, 12, error_weights={"a": 0.0, "b": 1.0})


def test_largest_useful_rank() -> None:
    assert largest_useful_rank((1024, 64)) == 60  # 60 * 1088 = 65280 < 65536 <= 61 * 1088
    assert largest_useful_rank((2, 2)) == 1
