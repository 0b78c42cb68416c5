"""
Choosing the rank of a factorization: checking a fixed rank against a matrix, finding the
smallest rank that keeps a share of the spectral energy, and `RankSpec`, the one-key
`{"rank": ...}` / `{"fraction": ...}` / `{"energy": ...}` block that configs use.
"""

import math
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Tuple, Union

import torch

from elmo_compress.constants import RANK_KINDS
from elmo_compress.errors import CompressionSpecError
from elmo_compress.factorize.checks import check_share, is_int, matrix_shape, validate_rank
from elmo_compress.factorize.svd import singular_values as compute_singular_values

# Relative slack when comparing cumulative energy with its target, so that `energy = 1.0`
# is reached by the rank that holds the whole total up to float64 round-off.
_ENERGY_TOLERANCE = 1e-12
_FRACTION_SLACK = 1e-12


def rank_for_energy(singular_values: torch.Tensor, energy: float) -> int:
    """
    The smallest rank `r` whose leading singular values keep a share `energy` of the squared
    Frobenius norm: `sum(s[:r] ** 2) / sum(s ** 2) >= energy`, compared in float64 with a
    relative slack of 1e-12 (so `energy = 1.0` gives the rank that reaches the total up to
    round-off). A zero matrix gives 1.

    # Parameters

    singular_values : `torch.Tensor`
        Shape (k,), non-negative and in descending order (as `singular_values` returns them).
    energy : `float`
        Share of the energy to keep, in (0, 1].

    # Returns

    rank : `int`
        Between 1 and k.
    """
    energy = check_share("energy", energy)
    if singular_values.dim() != 1 or singular_values.numel() == 0:
        raise CompressionSpecError(
            f"singular values must be a non-empty 1-D tensor, got shape {tuple(singular_values.shape)}"
        )
    # shape: (k,)
    cumulative = torch.cumsum(singular_values.detach().to(torch.float64) ** 2, dim=0)
    total = float(cumulative[-1])
    if total == 0.0:
        return 1
    target = energy * total - _ENERGY_TOLERANCE * total
    reached = torch.nonzero(cumulative >= target)
    return int(reached[0]) + 1 if reached.numel() else int(cumulative.numel())


def break_even_rank(shape: Tuple[int, int]) -> float:
    """
    The rank at which two factors store as many numbers as the dense matrix: `m n / (m + n)`. A
    factorization at or above it is larger (and slower) than the matrix it replaces.

    # Parameters

    shape : `Tuple[int, int]`
        `(m, n)`.
    """
    rows, columns = shape
    return rows * columns / (rows + columns)


@dataclass(frozen=True)
class RankSpec:
    """
    How large a factorization of one matrix is, written in configs as exactly one of
    `{"rank": 64}` (a fixed rank), `{"fraction": 0.25}` (that share of `min(m, n)`, rounded up)
    or `{"energy": 0.9}` (the smallest rank keeping that share of the squared singular values).

    # Parameters

    kind : `str`
        One of `"rank"`, `"fraction"`, `"energy"`.
    value : `float`
        An `int >= 1` for `"rank"`; a number in (0, 1] for `"fraction"` and `"energy"`
        (stored as a `float`).
    """

    kind: str
    value: Union[int, float]

    def __post_init__(self) -> None:
        if self.kind not in RANK_KINDS:
            raise CompressionSpecError(f"unknown rank kind {self.kind!r}; expected one of {', '.join(RANK_KINDS)}")
        if self.kind == "rank":
            if not is_int(self.value) or self.value < 1:
                raise CompressionSpecError(f"rank must be an int >= 1, got {self.value!r}")
        else:
            object.__setattr__(self, "value", check_share(self.kind, self.value))

    @classmethod
    def from_dict(cls, block: Mapping[str, Any], where: str = "rank spec") -> "RankSpec":
        """
        Parse a one-key block such as `{"energy": 0.9}`.

        # Parameters

        block : `Mapping[str, Any]`
            Exactly one of the keys `"rank"`, `"fraction"`, `"energy"`, and nothing else.
        where : `str`, optional (default = `"rank spec"`)
            What the block is, for error messages (e.g. `"override for 'input'"`).

        # Returns

        spec : `RankSpec`
        """
        expected = ", ".join(repr(kind) for kind in RANK_KINDS)
        if not isinstance(block, Mapping):
            raise CompressionSpecError(f"{where} must be an object with one of {expected}, got {block!r}")
        unknown = [key for key in block if key not in RANK_KINDS]
        if unknown:
            raise CompressionSpecError(
                f"unknown key {unknown[0]!r} in {where}; expected exactly one of {expected}"
            )
        kinds = [kind for kind in RANK_KINDS if kind in block]
        if not kinds:
            raise CompressionSpecError(f"{where} needs exactly one of {expected}, got none")
        if len(kinds) > 1:
            given = " and ".join(repr(kind) for kind in kinds)
            raise CompressionSpecError(f"{where} needs exactly one of {expected}, got {given}")
        return cls(kinds[0], block[kinds[0]])

    def to_dict(self) -> Dict[str, Union[int, float]]:
        """The one-key block that `from_dict` reads back, e.g. `{"rank": 64}`."""
        return {self.kind: self.value}

    def resolve(self, weight: torch.Tensor) -> int:
        """
        The rank to use for `weight`.

        # Parameters

        weight : `torch.Tensor`
            The matrix to factorize, shape (m, n).

        # Returns

        rank : `int`
            `"rank"`: the value itself (an error if it exceeds `min(m, n)`);
            `"fraction"`: `max(1, ceil(value * min(m, n)))`;
            `"energy"`: `rank_for_energy(singular_values(weight), value)`.
        """
        shape = matrix_shape(weight)
        if self.kind == "rank":
            return validate_rank(self.value, shape)
        if self.kind == "fraction":
            # The slack keeps float round-off (0.07 * 100 = 7.000000000000001) from adding a rank.
            return max(1, math.ceil(self.value * min(shape) * (1.0 - _FRACTION_SLACK)))
        return rank_for_energy(compute_singular_values(weight), self.value)

    def describe(self) -> str:
        """A short phrase such as `"rank 64"`, `"fraction 0.25"` or `"energy 0.9"`."""
        return f"{self.kind} {self.value}"
