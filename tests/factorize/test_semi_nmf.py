from typing import List

import pytest
import torch

from elmo_compress.errors import CompressionSpecError
from elmo_compress.factorize import semi_nmf, singular_values

from tests.factorize.matrices import random_matrix


def test_g_is_non_negative_and_shapes_match() -> None:
    weight = random_matrix(40, 24, seed=21)
    f, g = semi_nmf(weight, 6, max_iterations=50)
    assert f.shape == (40, 6) and g.shape == (6, 24)
    assert f.dtype == g.dtype == torch.float64
    assert bool((g >= 0).all())
    # F is not sign-constrained: the data has both signs, so F must too.
    assert bool((f < 0).any()) and bool((f > 0).any())


def test_float32_input_gives_float32_factors_with_non_negative_g() -> None:
    weight = random_matrix(40, 24, seed=22, dtype=torch.float32)
    f, g = semi_nmf(weight, 5, max_iterations=30)
    assert f.dtype == g.dtype == torch.float32
    assert f.is_contiguous() and g.is_contiguous()
    assert bool((g >= 0).all())


@pytest.mark.parametrize("shape, rank", [((40, 24), 6), ((24, 40), 3), ((30, 30), 29)])
def test_objective_never_increases_and_improves_on_the_start(shape, rank: int) -> None:
    weight = random_matrix(*shape, seed=23)
    history: List[float] = []
    f, g = semi_nmf(weight, rank, max_iterations=200, tolerance=0.0, objective_history=history)
    assert len(history) >= 2
    for previous, current in zip(history, history[1:]):
        assert current <= previous * (1 + 1e-12)
    assert history[-1] < history[0]
    assert float(torch.linalg.matrix_norm(weight - f @ g) ** 2) == pytest.approx(history[-1], rel=1e-9)


@pytest.mark.parametrize("rank", [1, 4, 10])
def test_error_is_at_least_the_svd_error(rank: int) -> None:
    weight = random_matrix(36, 20, seed=24)
    f, g = semi_nmf(weight, rank, max_iterations=100)
    svd_error = float((singular_values(weight)[rank:] ** 2).sum())
    error = float(torch.linalg.matrix_norm(weight - f @ g) ** 2)
    assert error >= svd_error * (1 - 1e-9)


def test_exact_semi_nmf_structure_is_found() -> None:
    # W = f g with g > 0 is exactly representable, so the objective falls towards 0
    # (multiplicative updates converge slowly, hence the loose bound).
    generator = torch.Generator().manual_seed(25)
    f_true = torch.randn(20, 2, generator=generator, dtype=torch.float64)
    g_true = torch.rand(2, 15, generator=generator, dtype=torch.float64) + 0.1
    weight = f_true @ g_true
    history: List[float] = []
    f, g = semi_nmf(weight, 2, max_iterations=300, tolerance=0.0, objective_history=history)
    assert history[-1] < 1e-4 * float(torch.linalg.matrix_norm(weight) ** 2)


def test_deterministic() -> None:
    weight = random_matrix(30, 18, seed=26)
    first = semi_nmf(weight, 5, max_iterations=40)
    second = semi_nmf(weight.clone(), 5, max_iterations=40)
    assert torch.equal(first[0], second[0]) and torch.equal(first[1], second[1])


def test_loose_tolerance_stops_early() -> None:
    weight = random_matrix(30, 18, seed=27)
    loose: List[float] = []
    tight: List[float] = []
    semi_nmf(weight, 5, max_iterations=100, tolerance=1e-2, objective_history=loose)
    semi_nmf(weight, 5, max_iterations=100, tolerance=0.0, objective_history=tight)
    # The history holds the start plus one entry per iteration run.
    assert len(loose) < 100
    assert len(tight) == 101
    assert tight[-1] <= loose[-1]


def test_max_iterations_bounds_the_history() -> None:
    history: List[float] = []
    semi_nmf(random_matrix(12, 10, seed=28), 3, max_iterations=1, tolerance=0.0, objective_history=history)
    assert len(history) == 2


def test_does_not_track_gradients() -> None:
    weight = random_matrix(12, 10, seed=29).requires_grad_()
    f, g = semi_nmf(weight, 3, max_iterations=5)
    assert not f.requires_grad and not g.requires_grad


def test_zero_and_exactly_low_rank_matrices() -> None:
    f, g = semi_nmf(torch.zeros(6, 5), 2, max_iterations=5)
    assert torch.equal(f @ g, torch.zeros(6, 5)) and bool((g >= 0).all())
    # rank 3 on a rank-1 matrix: zero singular values must not break the start.
    weight = torch.outer(torch.arange(1.0, 7.0), torch.arange(-2.0, 3.0)).double()
    f, g = semi_nmf(weight, 3, max_iterations=20)
    assert torch.isfinite(f).all() and torch.isfinite(g).all() and bool((g >= 0).all())
    assert torch.allclose(f @ g, weight, atol=1e-8)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"rank": 0}, r"min\(m, n\) = 8 for a 10 x 8 matrix, got 0"),
        ({"rank": 9}, r"min\(m, n\) = 8 for a 10 x 8 matrix, got 9"),
        ({"rank": 2, "max_iterations": 0}, "max_iterations must be an int >= 1, got 0"),
        ({"rank": 2, "max_iterations": 1.5}, "max_iterations must be an int >= 1, got 1.5"),
        ({"rank": 2, "tolerance": -1e-3}, "tolerance must be a finite number >= 0, got -0.001"),
        ({"rank": 2, "tolerance": float("nan")}, "tolerance must be a finite number >= 0, got nan"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, message: str) -> None:
    with pytest.raises(CompressionSpecError, match=message):
        semi_nmf(random_matrix(10, 8), **kwargs)
