import inspect
from typing import List, Tuple

import pytest
import torch

from elmo_compress.errors import CompressionSpecError
from elmo_compress.factorize import semi_nmf, singular_values
from elmo_compress.factorize.semi_nmf import (
    DEFAULT_MAX_ITERATIONS,
    DEFAULT_TOLERANCE,
    _initial_g,
    _objective,
    _reduced,
    _solve_f,
)

from tests.helpers import random_matrix


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


def test_defaults_are_the_module_constants() -> None:
    assert (DEFAULT_MAX_ITERATIONS, DEFAULT_TOLERANCE) == (300, 1e-5)
    parameters = inspect.signature(semi_nmf).parameters
    assert parameters["max_iterations"].default == DEFAULT_MAX_ITERATIONS
    assert parameters["tolerance"].default == DEFAULT_TOLERANCE
    assert parameters["on_iteration"].default is None


@pytest.mark.parametrize("shape, rank, seed", [((60, 12), 4, 31), ((200, 30), 8, 32), ((50, 49), 20, 33)])
def test_reduced_matrix_gives_the_same_products_and_objective(shape, rank: int, seed: int) -> None:
    weight = random_matrix(*shape, seed=seed)
    reduced = _reduced(weight)
    assert reduced.shape == (shape[1], shape[1])
    scale = float(weight.norm() ** 2)
    assert torch.allclose(reduced.t() @ reduced, weight.t() @ weight, rtol=0, atol=1e-12 * scale)
    # Any positive G, not only an iterate.
    g = torch.rand(rank, shape[1], generator=torch.Generator().manual_seed(seed), dtype=torch.float64) + 0.05
    f = _solve_f(weight, g)
    f_reduced = _solve_f(reduced, g)
    # A = F^T W and B = F^T F, as the update uses them.
    assert torch.allclose(f_reduced.t() @ reduced, f.t() @ weight, rtol=0, atol=1e-12 * scale)
    assert torch.allclose(f_reduced.t() @ f_reduced, f.t() @ f, rtol=0, atol=1e-12 * scale)
    explicit = float(torch.linalg.matrix_norm(weight - f @ g) ** 2)
    assert _objective(reduced, f_reduced, g) == pytest.approx(explicit, rel=1e-12)


def test_wide_and_square_matrices_are_not_reduced() -> None:
    for shape in [(12, 30), (20, 20)]:
        weight = random_matrix(*shape, seed=34)
        assert _reduced(weight) is weight


def _reference_iterates(
    weight: torch.Tensor, rank: int, iterations: int
) -> List[Tuple[torch.Tensor, torch.Tensor, float]]:
    """
    Semi-NMF on the full matrix, spelled out (the algorithm before the QR reduction): F by
    least squares `W pinv(G)`, A = F^T W, B = F^T F from the full W, explicit objective. The start
    is `_initial_g` on the full W, i.e. from W's own SVD. Returns (F, G, objective) per iteration.
    """
    g = _initial_g(weight, rank)
    f = weight @ torch.linalg.pinv(g)
    iterates = []
    for _ in range(iterations):
        a = f.t() @ weight
        b = f.t() @ f
        numerator = a.clamp_min(0) + (-b).clamp_min(0) @ g
        denominator = (-a).clamp_min(0) + b.clamp_min(0) @ g
        g = g * (numerator / denominator).sqrt()
        f = weight @ torch.linalg.pinv(g)
        iterates.append((f, g, float(torch.linalg.matrix_norm(weight - f @ g) ** 2)))
    return iterates


@pytest.mark.parametrize("shape, rank", [((80, 16), 5), ((30, 20), 12), ((16, 40), 4)])
def test_iterates_match_the_full_matrix_reference(shape, rank: int) -> None:
    weight = random_matrix(*shape, seed=35)
    reference = _reference_iterates(weight, rank, 6)
    # The objectives must fall, or semi_nmf would discard an iteration the reference keeps.
    assert all(current[2] < previous[2] for previous, current in zip(reference, reference[1:]))
    for iterations, (f_reference, g_reference, objective_reference) in enumerate(reference, start=1):
        history: List[float] = []
        f, g = semi_nmf(weight, rank, max_iterations=iterations, tolerance=0.0, objective_history=history)
        assert len(history) == iterations + 1
        assert history[-1] == pytest.approx(objective_reference, rel=1e-12)
        assert torch.allclose(g, g_reference, rtol=0, atol=1e-12 * float(g_reference.abs().max()))
        assert torch.allclose(f, f_reference, rtol=0, atol=1e-12 * float(f_reference.abs().max()))


def test_exactly_representable_matrix_reaches_round_off() -> None:
    # A Gram-matrix (trace-form) objective would bottom out near eps ||W||^2 ~ 1e-16 relative;
    # the residual formed from R, like the one formed from W, goes on to about 1e-21 here.
    weight = torch.outer(torch.arange(1.0, 7.0), torch.arange(-2.0, 3.0)).double()
    history: List[float] = []
    f, g = semi_nmf(weight, 3, max_iterations=20, tolerance=0.0, objective_history=history)
    scale = float(torch.linalg.matrix_norm(weight) ** 2)
    assert history[-1] < 1e-18 * scale
    assert float(torch.linalg.matrix_norm(weight - f @ g) ** 2) < 1e-18 * scale


@pytest.mark.parametrize("tolerance", [0.0, 1e-2])
def test_on_iteration_is_called_once_per_kept_iteration(tolerance: float) -> None:
    weight = random_matrix(40, 24, seed=36)
    calls: List[Tuple[int, float]] = []
    history: List[float] = []
    semi_nmf(
        weight,
        6,
        max_iterations=30,
        tolerance=tolerance,
        objective_history=history,
        on_iteration=lambda iteration, objective: calls.append((iteration, objective)),
    )
    assert [iteration for iteration, _ in calls] == list(range(1, len(history)))
    assert [objective for _, objective in calls] == history[1:]
    assert all(isinstance(objective, float) for _, objective in calls)
    objectives = [history[0]] + [objective for _, objective in calls]
    assert all(current <= previous for previous, current in zip(objectives, objectives[1:]))
    if tolerance == 0.0:
        assert len(calls) == 30
    else:
        assert 1 <= len(calls) < 30


def test_on_iteration_is_not_called_without_an_iteration() -> None:
    calls: List[Tuple[int, float]] = []
    semi_nmf(torch.zeros(6, 5), 2, max_iterations=5, on_iteration=lambda *arguments: calls.append(arguments))
    assert calls == []


def test_on_iteration_must_be_callable() -> None:
    with pytest.raises(TypeError, match="on_iteration must be callable or None, got int"):
        semi_nmf(random_matrix(10, 8), 2, on_iteration=3)
