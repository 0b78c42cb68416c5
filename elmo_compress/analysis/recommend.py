"""
Rank recommendation: the smallest truncated-SVD rank per LSTM matrix that meets an error or energy budget,
written as a `compression` block (`CompressionSpec`) that configs and `compress-elmo compress --compression`
accept, with the parameter and multiply-accumulate counts it leads to. Pure tensor math: no allennlp.
"""

from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Tuple

import torch

from elmo_compress.errors import CompressionSpecError
from elmo_compress.constants import TARGET_MATRICES, MatrixKey
from elmo_compress.factorize import (
    CompressionSpec,
    low_rank_parameter_count,
    matrix_shape,
    rank_for_energy,
    singular_values,
)
from elmo_compress.factorize.checks import check_share
from elmo_compress.analysis.spectrum import energy_curve, svd_error_curve

BUDGET_KINDS = ("error", "energy")


@dataclass(frozen=True)
class Budget:
    """
    What a recommended rank must achieve on each matrix.

    # Parameters

    kind : `str`
        `"error"`: the truncated SVD's relative error `||W - W_r||_F / ||W||_F` is at most `value`;
        `"energy"`: the kept share of `sum(s ** 2)` is at least `value` (as `rank_for_energy` decides it).
    value : `float`
        In (0, 1].
    """

    kind: str
    value: float

    def __post_init__(self) -> None:
        if self.kind not in BUDGET_KINDS:
            raise CompressionSpecError(f"unknown budget {self.kind!r}; expected one of {', '.join(BUDGET_KINDS)}")
        object.__setattr__(self, "value", check_share(f"{self.kind} budget", self.value))

    def rank(self, spectrum: torch.Tensor) -> int:
        """
        The smallest rank that meets the budget.

        # Parameters

        spectrum : `torch.Tensor`
            Shape (k,), singular values in descending order.

        # Returns

        rank : `int`
            Between 1 and k.
        """
        if self.kind == "energy":
            return rank_for_energy(spectrum, self.value)
        # The error at rank k is 0, so some rank always qualifies.
        return int(torch.nonzero(svd_error_curve(spectrum) <= self.value)[0]) + 1

    def describe(self) -> str:
        return f"relative SVD error <= {self.value:g}" if self.kind == "error" else f"energy >= {self.value:g}"


@dataclass
class MatrixRecommendation:
    """
    One matrix's rank under a budget. `minimal_rank` is this matrix's own smallest rank; a compression block
    has one rank per layer and target for both directions, so `rank` (the one the block applies) is the
    larger of the two directions' minimal ranks.
    """

    layer: int
    direction: int
    target: str
    shape: Tuple[int, int]
    minimal_rank: int
    rank: int
    svd_error: float
    energy: float
    dense_parameters: int
    parameters: int


@dataclass
class Recommendation:
    """
    The result of `recommend_ranks`.

    # Parameters

    budget : `Budget`
    spec : `CompressionSpec`
        The block: method `"svd"`, the top-level rank the largest recommended one, and per-layer overrides
        for every (layer, target) whose rank is smaller.
    matrices : `List[MatrixRecommendation]`
        Every W_i and W_h, in (layer, direction, target) order; targets the spec leaves dense are absent.
    parameters_before : `int`
        Parameters of all W_i and W_h, dense.
    parameters_after : `int`
        The same after applying `spec` (left-out targets stay dense).
    macs_before : `int`
        Multiply-accumulates per token of all W_i and W_h products (each matrix is applied once per token
        in its direction): `m n` per dense matrix.
    macs_after : `int`
        The same after applying `spec`: `r (m + n)` per factorized matrix (`x -> right x -> left (right x)`).
    """

    budget: Budget
    spec: CompressionSpec
    matrices: List[MatrixRecommendation]
    parameters_before: int
    parameters_after: int
    macs_before: int
    macs_after: int

    def to_dict(self) -> Dict[str, Any]:
        return {
            "budget": {"kind": self.budget.kind, "value": self.budget.value},
            "compression": self.spec.to_dict(),
            "parameters_before": self.parameters_before,
            "parameters_after": self.parameters_after,
            "macs_per_token_before": self.macs_before,
            "macs_per_token_after": self.macs_after,
            "matrices": [vars(matrix) for matrix in self.matrices],
        }


def _block(ranks: Mapping[Tuple[int, str], int], target: str) -> Dict[str, Any]:
    """The compression block giving each (layer, target) its rank: the largest at top level, overrides below."""
    default = max(ranks.values())
    layers: Dict[str, Dict[str, Any]] = {}
    for (layer, matrix_target), rank in sorted(ranks.items()):
        if rank != default:
            layers.setdefault(str(layer), {})[matrix_target] = {"rank": rank}
    block: Dict[str, Any] = {"method": "svd", "target": target, "rank": default}
    if layers:
        block["layers"] = layers
    return block


def _matrix_recommendation(
    key: MatrixKey, shape: Tuple[int, int], spectrum: torch.Tensor, minimal: int, rank: int
) -> MatrixRecommendation:
    layer, direction, target = key
    return MatrixRecommendation(
        layer=layer,
        direction=direction,
        target=target,
        shape=shape,
        minimal_rank=minimal,
        rank=rank,
        svd_error=float(svd_error_curve(spectrum)[rank - 1]),
        energy=float(energy_curve(spectrum)[rank - 1]),
        dense_parameters=shape[0] * shape[1],
        parameters=low_rank_parameter_count(shape, rank),
    )


def recommend_ranks(
    matrices: Mapping[MatrixKey, torch.Tensor], budget: Budget, target: str = "both"
) -> Recommendation:
    """
    The smallest SVD ranks that meet `budget` on every compressed matrix, as a compression block.

    # Parameters

    matrices : `Mapping[Tuple[int, int, str], torch.Tensor]`
        `(layer, direction, target)` -> W_i (`"input"`) or W_h (`"recurrent"`), shape (m, n); all cells.
    budget : `Budget`
        What every compressed matrix must achieve.
    target : `str`, optional (default = `"both"`)
        Which matrices to compress: `"input"`, `"recurrent"` or `"both"`.

    # Returns

    recommendation : `Recommendation`
    """
    if target not in TARGET_MATRICES:
        raise CompressionSpecError(
            f"unknown compression target {target!r}; expected one of {', '.join(TARGET_MATRICES)}"
        )
    compressed = {key: weight for key, weight in matrices.items() if key[2] in TARGET_MATRICES[target]}
    if not compressed:
        raise CompressionSpecError(f"no {target} matrices to recommend ranks for")
    spectra = {key: singular_values(weight) for key, weight in compressed.items()}
    minimal = {key: budget.rank(spectrum) for key, spectrum in spectra.items()}
    group_ranks: Dict[Tuple[int, str], int] = {}
    for (layer, _, matrix_target), rank in minimal.items():
        group_ranks[(layer, matrix_target)] = max(rank, group_ranks.get((layer, matrix_target), 0))
    spec = CompressionSpec.from_dict(_block(group_ranks, target))
    rows = [
        _matrix_recommendation(
            key, matrix_shape(compressed[key]), spectra[key], minimal[key], group_ranks[(key[0], key[2])]
        )
        for key in sorted(compressed)
    ]
    dense = sum(weight.shape[0] * weight.shape[1] for weight in matrices.values())
    after = dense - sum(row.dense_parameters - row.parameters for row in rows)
    return Recommendation(budget, spec, rows, dense, after, macs_before=dense, macs_after=after)
