import pytest
import torch

from elmo_compress.errors import CompressionSpecError
from elmo_compress.factorize import low_rank_parameter_count, magnitude_prune, magnitude_prune_mask

from tests.helpers import random_matrix


def test_low_rank_parameter_count() -> None:
    assert low_rank_parameter_count((256, 16), 4) == 4 * 272
    assert low_rank_parameter_count((16384, 512), 64) == 64 * 16896
    with pytest.raises(CompressionSpecError, match=r"min\(m, n\) = 16 for a 256 x 16 matrix, got 17"):
        low_rank_parameter_count((256, 16), 17)


@pytest.mark.parametrize("rank", [1, 2, 5, 10])
def test_pruning_keeps_as_many_entries_as_low_rank_factors(rank: int) -> None:
    weight = random_matrix(60, 30, seed=31)
    assert bool((weight != 0).all())
    n_params = low_rank_parameter_count((60, 30), rank)
    mask = magnitude_prune_mask(weight, n_params)
    assert mask.dtype == torch.bool and mask.shape == weight.shape
    assert int(mask.sum()) == n_params
    pruned = magnitude_prune(weight, n_params)
    assert int((pruned != 0).sum()) == n_params
    assert torch.equal(pruned[mask], weight[mask])
    assert bool((pruned[~mask] == 0).all())


def test_kept_entries_are_the_largest() -> None:
    weight = random_matrix(25, 40, seed=32, dtype=torch.float32)
    mask = magnitude_prune_mask(weight, 137)
    assert float(weight.abs()[mask].min()) >= float(weight.abs()[~mask].max())


def test_ties_are_broken_by_flat_index() -> None:
    weight = torch.tensor([[1.0, -2.0, 2.0], [-1.0, 2.0, 1.0]])
    assert magnitude_prune_mask(weight, 2).tolist() == [[False, True, True], [False, False, False]]
    assert magnitude_prune_mask(weight, 4).tolist() == [[True, True, True], [False, True, False]]
    constant = torch.full((4, 5), 0.5)
    mask = magnitude_prune_mask(constant, 7)
    assert mask.reshape(-1).tolist() == [True] * 7 + [False] * 13
    assert torch.equal(mask, magnitude_prune_mask(constant.clone(), 7))


def test_budget_above_size_keeps_everything() -> None:
    weight = random_matrix(6, 4, seed=33)
    assert bool(magnitude_prune_mask(weight, 24).all())
    assert bool(magnitude_prune_mask(weight, 1000).all())
    assert torch.equal(magnitude_prune(weight, 1000), weight)


def test_zero_entries_can_be_kept() -> None:
    weight = torch.zeros(3, 3)
    weight[0, 0] = 5.0
    mask = magnitude_prune_mask(weight, 4)
    assert int(mask.sum()) == 4


def test_pruning_returns_a_copy() -> None:
    weight = random_matrix(5, 5, seed=34)
    original = weight.clone()
    pruned = magnitude_prune(weight, 3)
    pruned.fill_(7.0)
    assert torch.equal(weight, original)


@pytest.mark.parametrize("n_params", [0, -5, 2.0, True, None])
def test_bad_budget_is_rejected(n_params) -> None:
    with pytest.raises(CompressionSpecError, match=f"parameters to keep must be an int >= 1, got {n_params!r}"):
        magnitude_prune_mask(random_matrix(4, 4), n_params)
