"""Activation-aware SVD: algebraic identities in float64."""

import pytest
import torch

from elmo_compress.errors import CompressionSpecError
from elmo_compress.factorize import MethodSettings, compress_matrix, truncated_svd
from elmo_compress.factorize.whitened_svd import (
    DEFAULT_DAMPING,
    input_whitening,
    svd_output_spectrum,
    whitened_singular_values,
    whitened_truncated_svd,
)

from tests.helpers import random_matrix


def correlated_inputs(samples: int, columns: int, seed: int) -> torch.Tensor:
    """Shape (samples, columns): inputs with very unequal energy per direction (as real activations have)."""
    scales = torch.logspace(1, -2, columns, dtype=torch.float64)
    return (random_matrix(samples, columns, seed=seed) * scales) @ random_matrix(columns, columns, seed=seed + 1)


def output_error(weight: torch.Tensor, approximation: torch.Tensor, inputs: torch.Tensor) -> float:
    """Mean over the inputs of ||(W - W_r) x||^2."""
    return float(((inputs @ (weight - approximation).T) ** 2).sum(dim=1).mean())


@pytest.mark.parametrize("shape", [(20, 12), (9, 14)])
def test_full_rank_reproduces_the_matrix(shape) -> None:
    weight = random_matrix(*shape, seed=3)
    inputs = correlated_inputs(50, shape[1], seed=4)
    left, right = whitened_truncated_svd(weight, min(shape), inputs.T @ inputs / 50)
    assert torch.allclose(left @ right, weight, atol=1e-9)


@pytest.mark.parametrize("damping", [0.0, DEFAULT_DAMPING])
def test_identity_statistics_give_plain_svd(damping: float) -> None:
    weight = random_matrix(16, 10, seed=5)
    identity = torch.eye(10, dtype=torch.float64)
    left, right = whitened_truncated_svd(weight, 4, identity, damping=damping)
    plain_left, plain_right = truncated_svd(weight, 4)
    assert torch.allclose(left @ right, plain_left @ plain_right, atol=1e-12)
    assert torch.allclose(left, plain_left * (1 + damping) ** 0.25, atol=1e-12)


@pytest.mark.parametrize("rank", [1, 3, 6])
def test_output_error_is_the_discarded_whitened_spectrum_and_below_plain_svd(rank: int) -> None:
    weight = random_matrix(24, 12, seed=6)
    inputs = correlated_inputs(200, 12, seed=7)
    moment = inputs.T @ inputs / 200
    left, right = whitened_truncated_svd(weight, rank, moment, damping=0.0)
    spectrum = whitened_singular_values(weight, moment, damping=0.0)
    error = output_error(weight, left @ right, inputs)
    assert error == pytest.approx(float((spectrum[rank:] ** 2).sum()), rel=1e-9)
    plain_left, plain_right = truncated_svd(weight, rank)
    assert error < output_error(weight, plain_left @ plain_right, inputs)


@pytest.mark.parametrize("rank", [1, 3, 6])
def test_damped_error_is_bounded_by_plain_svd_plus_the_damping_term(rank: int) -> None:
    # err(asvd) <= err_{C + delta I}(asvd) <= err_{C + delta I}(svd) = err(svd) + delta ||W - W_svd||_F^2
    weight = random_matrix(24, 12, seed=8)
    inputs = correlated_inputs(200, 12, seed=9)
    moment = inputs.T @ inputs / 200
    left, right = whitened_truncated_svd(weight, rank, moment)
    plain = truncated_svd(weight, rank)
    plain_residual = weight - plain[0] @ plain[1]
    delta = DEFAULT_DAMPING * float(torch.trace(moment)) / 12
    bound = output_error(weight, plain[0] @ plain[1], inputs) + delta * float((plain_residual**2).sum())
    assert output_error(weight, left @ right, inputs) <= bound * (1 + 1e-12)


def test_whitening_factor_and_its_damping() -> None:
    inputs = correlated_inputs(40, 6, seed=10)
    moment = inputs.T @ inputs / 40
    factor = input_whitening(moment, damping=0.1)
    delta = 0.1 * float(torch.trace(moment)) / 6
    assert torch.allclose(factor @ factor.T, moment + delta * torch.eye(6, dtype=torch.float64), atol=1e-12)
    assert torch.equal(factor, torch.tril(factor))
    assert torch.equal(input_whitening(torch.zeros(6, 6, dtype=torch.float64)), torch.eye(6, dtype=torch.float64))


def test_singular_statistics_need_damping() -> None:
    rank_one = torch.ones(4, 4, dtype=torch.float64)
    with pytest.raises(CompressionSpecError, match="not positive definite .* use a damping > 0"):
        input_whitening(rank_one, damping=0.0)
    left, right = whitened_truncated_svd(random_matrix(6, 4, seed=11), 2, rank_one)
    assert torch.isfinite(left).all() and torch.isfinite(right).all()


def test_float32_weight_gives_float32_factors_and_the_method_reads_settings() -> None:
    weight = random_matrix(16, 8, seed=12, dtype=torch.float32)
    moment = torch.diag(torch.arange(1, 9, dtype=torch.float64))
    matrix = compress_matrix(weight, "asvd", 3, settings=MethodSettings(statistics=moment))
    left, right = whitened_truncated_svd(weight, 3, moment)
    assert (
        matrix.left.dtype == torch.float32 and torch.equal(matrix.left, left) and torch.equal(matrix.right, right)
    )


def test_bad_statistics_are_one_line_errors() -> None:
    weight = random_matrix(6, 4, seed=13)
    with pytest.raises(CompressionSpecError, match=r"must be a \(4, 4\) second moment, got \(3, 3\)"):
        whitened_truncated_svd(weight, 2, torch.eye(3, dtype=torch.float64))
    with pytest.raises(CompressionSpecError, match="NaN or infinite"):
        whitened_truncated_svd(weight, 2, torch.full((4, 4), float("nan"), dtype=torch.float64))
    with pytest.raises(CompressionSpecError, match="damping must be a finite number >= 0"):
        input_whitening(torch.eye(4, dtype=torch.float64), damping=-1.0)


def test_svd_output_spectrum_predicts_plain_svd_output_error() -> None:
    weight = random_matrix(24, 12, seed=14)
    inputs = correlated_inputs(200, 12, seed=15)
    moment = inputs.T @ inputs / 200
    values = svd_output_spectrum(weight, moment, damping=0.0)
    for rank in (1, 4, 9):
        left, right = truncated_svd(weight, rank)
        assert output_error(weight, left @ right, inputs) == pytest.approx(
            float((values[rank:] ** 2).sum()), rel=1e-9
        )
