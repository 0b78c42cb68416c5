import math

import pytest
import torch

from elmo_compress.errors import CompressionSpecError
from elmo_compress.factorize import singular_values, truncated_svd

from tests.helpers import matrix_with_spectrum, random_matrix


@pytest.mark.parametrize("rank", [1, 3, 7, 12])
def test_error_is_the_discarded_spectrum_in_float64(rank: int) -> None:
    weight = random_matrix(20, 12, seed=1)
    left, right = truncated_svd(weight, rank)
    spectrum = singular_values(weight)
    expected = math.sqrt(float((spectrum[rank:] ** 2).sum()))
    assert float(torch.linalg.matrix_norm(weight - left @ right)) == pytest.approx(expected, abs=1e-10)


def test_error_is_the_discarded_spectrum_in_float32() -> None:
    weight = random_matrix(48, 40, seed=2, dtype=torch.float32)
    left, right = truncated_svd(weight, 10)
    assert left.dtype == right.dtype == torch.float32
    spectrum = singular_values(weight)
    expected = math.sqrt(float((spectrum[10:] ** 2).sum()))
    error = float(torch.linalg.matrix_norm(weight.double() - left.double() @ right.double()))
    assert error == pytest.approx(expected, rel=1e-4)


def test_known_spectrum_is_recovered_and_truncation_error_follows_it() -> None:
    spectrum = [9.0, 5.0, 4.0, 1.0, 0.5]
    weight = matrix_with_spectrum(16, 8, spectrum, seed=3)
    values = singular_values(weight)
    assert values.dtype == torch.float64 and values.shape == (8,)
    assert torch.allclose(values[:5], torch.tensor(spectrum, dtype=torch.float64), atol=1e-12)
    assert float(values[5:].abs().max()) < 1e-12
    left, right = truncated_svd(weight, 2)
    assert float(torch.linalg.matrix_norm(weight - left @ right)) == pytest.approx(
        math.sqrt(16 + 1 + 0.25), abs=1e-10
    )


def test_singular_values_descend() -> None:
    values = singular_values(random_matrix(10, 30, seed=4))
    assert values.shape == (10,)
    assert bool((values[:-1] >= values[1:]).all())


@pytest.mark.parametrize("shape", [(9, 5), (5, 9), (6, 6)])
def test_full_rank_reproduces_the_matrix(shape) -> None:
    weight = random_matrix(*shape, seed=5)
    left, right = truncated_svd(weight, min(shape))
    assert left.shape == (shape[0], min(shape)) and right.shape == (min(shape), shape[1])
    assert torch.allclose(left @ right, weight, atol=1e-12)


def test_split_is_balanced() -> None:
    weight = random_matrix(30, 14, seed=6)
    left, right = truncated_svd(weight, 6)
    left_norms = left.norm(dim=0)
    right_norms = right.norm(dim=1)
    assert torch.allclose(left_norms, right_norms, atol=1e-12)
    assert torch.allclose(left_norms**2, singular_values(weight)[:6], atol=1e-12)


def test_signs_are_canonical_and_results_deterministic() -> None:
    weight = random_matrix(25, 11, seed=7)
    left, right = truncated_svd(weight, 5)
    again_left, again_right = truncated_svd(weight.clone(), 5)
    assert torch.equal(left, again_left) and torch.equal(right, again_right)
    pivots = left.gather(0, left.abs().argmax(dim=0, keepdim=True))
    assert bool((pivots > 0).all())
    # Flipping the input's sign flips only one factor's columns, never the canonical pivots.
    flipped_left, _ = truncated_svd(-weight, 5)
    assert bool((flipped_left.gather(0, flipped_left.abs().argmax(dim=0, keepdim=True)) > 0).all())


def test_factors_are_contiguous_and_on_input_dtype() -> None:
    weight = random_matrix(12, 20, seed=8, dtype=torch.float32).t()  # non-contiguous (20, 12)
    left, right = truncated_svd(weight, 4)
    assert left.is_contiguous() and right.is_contiguous()
    assert left.dtype == torch.float32 and left.shape == (20, 4) and right.shape == (4, 12)


@pytest.mark.parametrize("rank", [0, -1, 13, 100])
def test_rank_out_of_range_is_rejected(rank: int) -> None:
    with pytest.raises(
        CompressionSpecError, match=rf"between 1 and min\(m, n\) = 12 for a 30 x 12 matrix, got {rank}"
    ):
        truncated_svd(random_matrix(30, 12), rank)


@pytest.mark.parametrize("rank", [2.0, "2", True, None])
def test_non_int_rank_is_rejected(rank) -> None:
    with pytest.raises(CompressionSpecError, match="rank must be an int"):
        truncated_svd(random_matrix(30, 12), rank)


def test_bad_matrices_are_rejected() -> None:
    with pytest.raises(CompressionSpecError, match="2-D floating-point"):
        truncated_svd(torch.ones(3, 4, 5), 1)
    with pytest.raises(CompressionSpecError, match="2-D floating-point"):
        truncated_svd(torch.ones(3, 4, dtype=torch.int64), 1)
    weight = random_matrix(4, 4)
    weight[1, 2] = float("nan")
    with pytest.raises(CompressionSpecError, match="NaN or infinite"):
        singular_values(weight)
