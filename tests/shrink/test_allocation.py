"""`allocate` on a tiny random biLM: every weighting meets the budget, the block says exactly the ranks."""

import pytest

from elmo_compress.calibration.collect import compute_statistics
from elmo_compress.errors import CompressionSpecError
from elmo_compress.factorize import CompressionSpec
from elmo_compress.shrink.allocation import WEIGHTINGS, allocate
from elmo_compress.weights import compress_weights

from tests.shrink.test_calibration import SENTENCES, small_weights


@pytest.mark.parametrize("weighting", WEIGHTINGS)
@pytest.mark.parametrize("method", ["asvd", "svd"])
def test_allocation_meets_the_budget_and_its_block_gives_its_ranks(weighting: str, method: str) -> None:
    weights = small_weights()
    statistics = compute_statistics(weights, SENTENCES, show_progress=False)
    for budget in (0.2, 0.33, 0.6, 1.0):
        allocation = allocate(weights, statistics.second_moments, budget, method, weighting, sentences=SENTENCES)
        assert allocation.parameters <= allocation.budget_parameters <= budget * allocation.dense_parameters
        spec = allocation.spec
        assert CompressionSpec.from_dict(spec.to_dict()) == spec
        compressed, reports = compress_weights(weights, spec, statistics=statistics.second_moments)
        assert {key: matrix.rank for key, matrix in compressed.matrices.items()} == allocation.ranks
        assert sum(report.parameters_after for report in reports) == allocation.parameters


def test_measured_weighting_needs_text_and_budgets_are_checked() -> None:
    weights = small_weights()
    statistics = compute_statistics(weights, SENTENCES, show_progress=False)
    with pytest.raises(CompressionSpecError, match="'measured' weighting needs calibration sentences"):
        allocate(weights, statistics.second_moments, 0.5, "asvd", "measured")
    with pytest.raises(
        CompressionSpecError, match=r"budget 0.05 \(307 of 6,144 parameters\) is below the smallest allocation"
    ):
        allocate(weights, statistics.second_moments, 0.05, "asvd", "absolute")
    with pytest.raises(CompressionSpecError, match=r"budget must be a number in \(0, 1\], got 1.5"):
        allocate(weights, statistics.second_moments, 1.5, "asvd", "absolute")
