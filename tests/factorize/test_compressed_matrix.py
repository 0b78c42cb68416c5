import pytest
import torch

from elmo_compress.errors import CompressionSpecError, ElmoCompressError
from elmo_compress.methods import METHOD_NAMES, METHODS
from elmo_compress.factorize import (
    CompressedMatrix,
    MethodSettings,
    compress_matrix,
    dense_matrix,
    semi_nmf,
    truncated_svd,
)

from tests.helpers import random_matrix


def direct_relative_error(original: torch.Tensor, approximation: torch.Tensor) -> float:
    original, approximation = original.double(), approximation.double()
    return float(torch.linalg.matrix_norm(original - approximation) / torch.linalg.matrix_norm(original))


def test_methods() -> None:
    assert METHOD_NAMES == ("svd", "semi_nmf", "prune", "asvd")
    assert {name: METHODS[name].form for name in METHOD_NAMES} == {
        "svd": "factors",
        "semi_nmf": "factors",
        "prune": "sparse",
        "asvd": "factors",
    }
    assert [name for name in METHOD_NAMES if METHODS[name].needs_statistics] == ["asvd"]


def test_svd_matrix() -> None:
    weight = random_matrix(48, 16, seed=41, dtype=torch.float32)
    matrix = compress_matrix(weight, "svd", 4)
    left, right = truncated_svd(weight, 4)
    assert (matrix.method, matrix.shape, matrix.rank) == ("svd", (48, 16), 4)
    assert torch.equal(matrix.left, left) and torch.equal(matrix.right, right)
    assert matrix.num_parameters() == 4 * (48 + 16)
    assert torch.equal(matrix.to_dense(), left @ right)
    assert matrix.relative_error(weight) == pytest.approx(direct_relative_error(weight, left @ right), rel=1e-12)


def test_semi_nmf_matrix_passes_iteration_settings() -> None:
    weight = random_matrix(30, 12, seed=42)
    matrix = compress_matrix(weight, "semi_nmf", 3, max_iterations=7, tolerance=0.0)
    f, g = semi_nmf(weight, 3, max_iterations=7, tolerance=0.0)
    assert torch.equal(matrix.left, f) and torch.equal(matrix.right, g)
    assert matrix.num_parameters() == 3 * (30 + 12)
    assert matrix.relative_error(weight) == pytest.approx(direct_relative_error(weight, f @ g), rel=1e-12)
    svd_error = compress_matrix(weight, "svd", 3).relative_error(weight)
    assert matrix.relative_error(weight) >= svd_error


def test_prune_matrix() -> None:
    weight = random_matrix(40, 20, seed=43)
    matrix = compress_matrix(weight, "prune", 2)
    assert (matrix.method, matrix.rank, matrix.left, matrix.right) == ("prune", 2, None, None)
    assert matrix.num_parameters() == matrix.n_kept == 2 * (40 + 20)
    assert int((matrix.to_dense() != 0).sum()) == 120
    assert matrix.relative_error(weight) == pytest.approx(direct_relative_error(weight, matrix.weight), rel=1e-12)


def test_prune_count_is_not_fooled_by_zero_weights() -> None:
    weight = random_matrix(10, 10, seed=44)
    weight[:, :6] = 0.0  # only 40 non-zero entries, but rank 3 keeps 60
    matrix = compress_matrix(weight, "prune", 3)
    assert matrix.num_parameters() == 60
    assert matrix.relative_error(weight) == 0.0


def test_dense_matrix() -> None:
    weight = random_matrix(7, 3, seed=45)
    matrix = dense_matrix(weight)
    assert (matrix.method, matrix.shape, matrix.rank) == ("dense", (7, 3), None)
    assert matrix.num_parameters() == 21
    assert matrix.to_dense() is weight
    assert matrix.relative_error(weight) == 0.0


def test_full_rank_svd_is_exact() -> None:
    weight = random_matrix(9, 6, seed=46)
    assert compress_matrix(weight, "svd", 6).relative_error(weight) < 1e-14


def test_relative_error_of_zero_matrix() -> None:
    zero = torch.zeros(4, 3)
    assert dense_matrix(zero).relative_error(zero) == 0.0
    assert dense_matrix(torch.ones(4, 3)).relative_error(zero) == float("inf")


def test_compress_matrix_detaches() -> None:
    weight = random_matrix(8, 6, seed=47).requires_grad_()
    settings = MethodSettings(max_iterations=3, statistics=torch.eye(6, dtype=torch.float64))
    for method in METHOD_NAMES:
        matrix = compress_matrix(weight, method, 2, settings=settings)
        assert not matrix.to_dense().requires_grad


def test_unknown_method_is_named() -> None:
    with pytest.raises(
        CompressionSpecError, match=r"unknown compression method 'tucker'; expected one of svd, semi_nmf, prune"
    ):
        compress_matrix(random_matrix(5, 5), "tucker", 2)


def test_rank_is_validated_for_every_method() -> None:
    settings = MethodSettings(statistics=torch.eye(5, dtype=torch.float64))
    for method in METHOD_NAMES:
        with pytest.raises(CompressionSpecError, match=r"min\(m, n\) = 5 for a 8 x 5 matrix, got 6"):
            compress_matrix(random_matrix(8, 5), method, 6, settings=settings)


def test_method_that_needs_statistics_refuses_to_run_without_them() -> None:
    with pytest.raises(CompressionSpecError, match="method 'asvd' needs input statistics"):
        compress_matrix(random_matrix(8, 5), "asvd", 2)


def test_inconsistent_matrices_are_rejected() -> None:
    with pytest.raises(ElmoCompressError, match="needs left \\(6, 2\\) and right \\(2, 4\\)"):
        CompressedMatrix("svd", (6, 4), 2, left=torch.zeros(6, 2), right=torch.zeros(3, 4))
    with pytest.raises(ElmoCompressError, match="needs a weight of shape \\(6, 4\\)"):
        CompressedMatrix("dense", (6, 4), None)
    with pytest.raises(ElmoCompressError, match="n_kept"):
        CompressedMatrix("prune", (6, 4), 1, weight=torch.zeros(6, 4))
    with pytest.raises(CompressionSpecError, match="unknown matrix method 'lowrank'"):
        CompressedMatrix("lowrank", (6, 4), 1, weight=torch.zeros(6, 4))
    with pytest.raises(ElmoCompressError, match="original matrix has shape \\(4, 6\\)"):
        dense_matrix(torch.zeros(6, 4)).relative_error(torch.zeros(4, 6))


def test_shape_is_normalized_to_int_tuple() -> None:
    matrix = CompressedMatrix("dense", [2, 3], None, weight=torch.zeros(2, 3))
    assert matrix.shape == (2, 3) and isinstance(matrix.shape, tuple)
