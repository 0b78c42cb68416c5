"""
`allocate`: the compression block that spends a share of a biLM's LSTM W_i + W_h parameters where the
calibration statistics predict it removes the most output error (`elmo_compress.factorize.allocation`).
"""

import math
from collections import Counter
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import torch

from elmo_compress.constants import MATRIX_TARGETS, MatrixKey
from elmo_compress.errors import CompressionSpecError
from elmo_compress.factorize import CompressionSpec, RankSpec
from elmo_compress.factorize.allocation import (
    allocate_ranks,
    largest_useful_rank,
    minimum_allocation,
    predicted_error,
)
from elmo_compress.factorize.checks import check_share
from elmo_compress.factorize.whitened_svd import svd_output_spectrum, whitened_singular_values
from elmo_compress.methods import METHODS
from elmo_compress.weights import ElmoWeights

# How the predicted errors of different matrices are added up: "measured" (each scaled by how much the
# biLM's layer outputs move per unit of it, measured on calibration text: `shrink.sensitivity`),
# "absolute" (expected squared error of each matrix's output, the gate pre-activations, as it is) or
# "relative" (each divided by its matrix's whole expected output energy, E||W x||^2).
WEIGHTINGS = ("measured", "absolute", "relative")
DEFAULT_WEIGHTING = "measured"
# Sentences (spread over the calibration text) that `"measured"` runs the biLM on, once per matrix.
SENSITIVITY_SENTENCES = 300
# Methods whose output error the predictor knows: the whitened spectrum for "asvd", the output error
# of each plain SVD component for "svd".
ALLOCATION_METHODS = ("asvd", "svd")


@dataclass(frozen=True)
class Allocation:
    """An allocation: the block, the rank per matrix, and what it spends and predicts."""

    spec: CompressionSpec
    ranks: Dict[MatrixKey, int]
    budget_parameters: int
    parameters: int
    dense_parameters: int
    predicted_error: float


def lstm_matrices(weights: ElmoWeights) -> Dict[MatrixKey, torch.Tensor]:
    """(layer, direction, target) -> the dense W_i / W_h of an uncompressed biLM."""
    if weights.is_compressed:
        raise CompressionSpecError("allocation needs the uncompressed biLM; these weights are already compressed")
    return {
        (layer, direction, target): weights.matrix(layer, direction, target).to_dense()
        for layer, direction in weights.cells()
        for target in MATRIX_TARGETS
    }


def parameter_budget(shapes: Mapping[MatrixKey, Tuple[int, int]], budget: float) -> int:
    """
    The numbers `budget` (a share in (0, 1] of the dense matrices of `shapes`) lets the factors store;
    one error line when that is below rank 1 everywhere.
    """
    budget = check_share("budget", budget)
    dense = sum(rows * columns for rows, columns in shapes.values())
    parameters = math.floor(budget * dense + 1e-9)
    smallest = minimum_allocation(shapes)
    if parameters < smallest:
        raise CompressionSpecError(
            f"budget {budget:g} ({parameters:,} of {dense:,} parameters) is below the smallest allocation, "
            f"rank 1 everywhere ({smallest:,} parameters, {smallest / dense:.4f})"
        )
    return parameters


def output_spectra(
    matrices: Mapping[MatrixKey, torch.Tensor], second_moments: Mapping[MatrixKey, torch.Tensor], method: str
) -> Dict[MatrixKey, torch.Tensor]:
    """Per matrix, the values whose squares past rank r are the predicted output error of `method` at r."""
    if method not in ALLOCATION_METHODS:
        raise CompressionSpecError(
            f"allocation knows the error of {', '.join(ALLOCATION_METHODS)}, not {method!r}"
        )
    spectrum = whitened_singular_values if method == "asvd" else svd_output_spectrum
    return {key: spectrum(matrix, second_moments[key]) for key, matrix in matrices.items()}


def allocate(
    weights: ElmoWeights,
    second_moments: Mapping[MatrixKey, torch.Tensor],
    budget: float,
    method: str = "asvd",
    weighting: str = DEFAULT_WEIGHTING,
    statistics_path: Optional[str] = None,
    seed: int = 0,
    sentences: Optional[Sequence[List[str]]] = None,
) -> Allocation:
    """
    A rank per LSTM matrix (layer x direction x target) whose factors store at most `budget` of the
    dense W_i + W_h parameters and minimize the summed predicted output error.

    # Parameters

    weights : `ElmoWeights`
        Uncompressed biLM.
    second_moments : `Mapping[Tuple[int, int, str], torch.Tensor]`
        E[x x^T] of every matrix's inputs (`elmo_compress.calibration`).
    budget : `float`
        Share of the dense W_i + W_h parameters, in (0, 1].
    method : `str`, optional (default = `"asvd"`)
        The method the block will use: `"asvd"` or `"svd"`.
    weighting : `str`, optional (default = `"absolute"`)
        One of `WEIGHTINGS`.
    statistics_path : `str`, optional (default = `None`)
        The statistics file the `"asvd"` block names.
    seed : `int`, optional (default = `0`)
        Recorded in the block.
    sentences : `Sequence[List[str]]`, optional (default = `None`)
        Calibration text for the `"measured"` weighting (which needs it); the first `SENSITIVITY_SENTENCES`
        spread over it are used.

    # Returns

    allocation : `Allocation`
    """
    if weighting not in WEIGHTINGS:
        raise CompressionSpecError(f"unknown weighting {weighting!r}; expected one of {', '.join(WEIGHTINGS)}")
    matrices = lstm_matrices(weights)
    shapes: Dict[MatrixKey, Tuple[int, int]] = {key: tuple(matrix.shape) for key, matrix in matrices.items()}
    dense = sum(rows * columns for rows, columns in shapes.values())
    budget_parameters = parameter_budget(shapes, budget)
    spectra = output_spectra(matrices, second_moments, method)
    error_weights = None
    if weighting == "relative":
        error_weights = {key: 1.0 / max(float((values**2).sum()), 1e-300) for key, values in spectra.items()}
    elif weighting == "measured":
        error_weights = _measured_weights(
            weights, matrices, spectra, budget_parameters, method, second_moments, sentences
        )
    ranks = allocate_ranks(spectra, shapes, budget_parameters, error_weights)
    spec = ranks_block(ranks, method, statistics_path if METHODS[method].needs_statistics else None, seed)
    return Allocation(
        spec=spec,
        ranks=ranks,
        budget_parameters=budget_parameters,
        parameters=sum(rank * sum(shapes[key]) for key, rank in ranks.items()),
        dense_parameters=dense,
        predicted_error=predicted_error(spectra, ranks),
    )


def ranks_block(
    ranks: Mapping[MatrixKey, int], method: str, statistics_path: Optional[str], seed: int = 0
) -> CompressionSpec:
    """The compression block of one rank per matrix: the commonest rank on top, every matrix named per direction."""
    common = Counter(ranks.values()).most_common(1)[0][0]
    directions: Dict[Tuple[int, int], Dict[str, RankSpec]] = {}
    for (layer, direction, target), rank in sorted(ranks.items()):
        directions.setdefault((layer, direction), {})[target] = RankSpec("rank", rank)
    return CompressionSpec(
        method=method,
        target="both",
        rank=RankSpec("rank", common),
        directions=directions,
        statistics=statistics_path,
        seed=seed,
    )


def _measured_weights(
    weights: ElmoWeights,
    matrices: Mapping[MatrixKey, torch.Tensor],
    spectra: Mapping[MatrixKey, torch.Tensor],
    budget_parameters: int,
    method: str,
    second_moments: Mapping[MatrixKey, torch.Tensor],
    sentences: Optional[Sequence[List[str]]],
) -> Dict[MatrixKey, float]:
    """`shrink.sensitivity.measured_error_weights`, each matrix probed at the uniform rank of the budget."""
    from elmo_compress.calibration.collect import calibration_sentences
    from elmo_compress.shrink.sensitivity import measured_error_weights

    if not sentences:
        raise CompressionSpecError("the 'measured' weighting needs calibration sentences")
    cost = sum(sum(matrix.shape) for matrix in matrices.values())
    ranks = {
        key: max(1, min(budget_parameters // cost, largest_useful_rank(tuple(matrix.shape))))
        for key, matrix in matrices.items()
    }
    probe = calibration_sentences(sentences, SENSITIVITY_SENTENCES)
    return measured_error_weights(weights, matrices, spectra, ranks, method, second_moments, probe)
