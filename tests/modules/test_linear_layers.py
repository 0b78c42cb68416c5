import pytest
import torch

from elmo_compress.factorize import magnitude_prune_mask, truncated_svd
from elmo_compress.modules import LowRankLinear, PrunedLinear


def _random(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def test_low_rank_linear_computes_x_times_product_of_factors():
    left, right, bias = _random(12, 3, seed=1), _random(3, 5, seed=2), _random(12, seed=3)
    layer = LowRankLinear.from_factors(left, right, bias)
    inputs = _random(4, 7, 5, seed=4)
    torch.testing.assert_close(layer(inputs), inputs @ (left @ right).T + bias)
    assert set(layer.state_dict()) == {"bias", "left.weight", "right.weight"}
    assert sum(parameter.numel() for parameter in layer.parameters()) == 3 * (12 + 5) + 12


@pytest.mark.parametrize("method", ["svd", "semi_nmf"])
def test_low_rank_linear_factorizes_a_dense_state_dict_at_load(method: str):
    dense = torch.nn.Linear(6, 20)
    layer = LowRankLinear(6, 20, rank=6, bias=True, method=method, max_iterations=500, tolerance=0.0)
    result = layer.load_state_dict(dense.state_dict())
    assert not result.missing_keys and not result.unexpected_keys
    assert torch.equal(layer.bias, dense.bias)
    if method == "svd":  # full rank SVD reproduces the weight
        torch.testing.assert_close(layer.weight(), dense.weight, rtol=0, atol=1e-5)
        left, right = truncated_svd(dense.weight.detach(), 6)
        assert torch.equal(layer.left.weight, left) and torch.equal(layer.right.weight, right)
    else:
        assert bool((layer.right.weight >= 0).all())


def test_low_rank_linear_loads_its_own_factors_unchanged():
    layer = LowRankLinear.from_factors(_random(8, 2), _random(2, 4), None)
    copy = LowRankLinear(4, 8, rank=2, bias=False)
    copy.load_state_dict(layer.state_dict())
    assert torch.equal(copy.weight(), layer.weight())


def test_pruned_linear_keeps_masked_entries_zero_while_training():
    weight, bias = _random(10, 6), _random(10)
    mask = magnitude_prune_mask(weight, 20)
    layer = PrunedLinear(weight, mask, bias)
    inputs = _random(3, 6, seed=5)
    torch.testing.assert_close(layer(inputs), inputs @ (weight * mask).T + bias)
    layer(inputs).sum().backward()
    with torch.no_grad():
        layer.weight.add_(1.0)  # an optimizer step that touches every entry
    torch.testing.assert_close(layer(inputs), inputs @ ((weight + 1.0) * mask).T + bias)
    assert layer.num_kept == 20


def test_pruned_linear_prunes_a_dense_state_dict_at_load():
    dense = torch.nn.Linear(6, 10)
    layer = PrunedLinear(_random(10, 6), magnitude_prune_mask(_random(10, 6), 17), _random(10))
    result = layer.load_state_dict(dense.state_dict())
    assert not result.missing_keys and not result.unexpected_keys
    expected_mask = magnitude_prune_mask(dense.weight.detach(), 17)
    assert torch.equal(layer.mask, expected_mask)
    assert torch.equal(layer.weight, dense.weight.detach() * expected_mask)
