"""
Budgeted rank allocation: one rank per matrix that minimizes the summed predicted error under a
parameter budget.

Matrix k at rank r stores r (m_k + n_k) numbers, and truncating it at r leaves a predicted error of
w_k * sum_{i > r} s_{k,i}^2 (s: its singular values, of W L for whitened ones; w_k: how its error is
weighed). Raising r by one costs m_k + n_k and removes w_k s_{k,r+1}^2. Within one matrix the gains
fall as r grows (singular values are sorted), so taking, again and again, the step with the largest
gain per parameter that still fits is the greedy solution of a knapsack with concave gains: optimal
when every matrix costs the same per rank (the LSTM matrices of one biLM), within one step of the
optimum otherwise.
"""

import heapq
from typing import Dict, Hashable, List, Mapping, Optional, Tuple, TypeVar

import torch

from elmo_compress.errors import CompressionSpecError
from elmo_compress.factorize.checks import is_int, is_real

Key = TypeVar("Key", bound=Hashable)


def largest_useful_rank(shape: Tuple[int, int]) -> int:
    """The largest rank whose factors store fewer numbers than the dense matrix (at least 1)."""
    rows, columns = shape
    return max(1, min(min(rows, columns), (rows * columns - 1) // (rows + columns)))


def minimum_allocation(shapes: Mapping[Key, Tuple[int, int]]) -> int:
    """Parameters of rank 1 everywhere: the smallest allocation there is."""
    return sum(rows + columns for rows, columns in shapes.values())


def allocate_ranks(
    spectra: Mapping[Key, torch.Tensor],
    shapes: Mapping[Key, Tuple[int, int]],
    budget: int,
    error_weights: Optional[Mapping[Key, float]] = None,
) -> Dict[Key, int]:
    """
    Ranks (at least 1, at most `largest_useful_rank`) whose factors store at most `budget` numbers in
    all and minimize sum_k w_k sum_{i > r_k} s_{k,i}^2 (greedy, see the module docstring).

    # Parameters

    spectra : `Mapping[Key, torch.Tensor]`
        Per matrix, its singular values, shape (min(m, n),), descending.
    shapes : `Mapping[Key, Tuple[int, int]]`
        Per matrix, (m, n).
    budget : `int`
        Numbers the factors may store in all; at least `minimum_allocation(shapes)`.
    error_weights : `Mapping[Key, float]`, optional (default = `None`: 1 each)
        w_k, > 0.

    # Returns

    ranks : `Dict[Key, int]`
    """
    if set(spectra) != set(shapes):
        raise CompressionSpecError("allocation needs the singular values and the shape of the same matrices")
    if not is_int(budget):
        raise CompressionSpecError(f"budget must be a number of parameters, got {budget!r}")
    smallest = minimum_allocation(shapes)
    if budget < smallest:
        raise CompressionSpecError(
            f"a budget of {budget:,} parameters is below the smallest allocation, rank 1 everywhere ({smallest:,})"
        )
    weights = {key: 1.0 for key in shapes} if error_weights is None else dict(error_weights)
    for key, weight in weights.items():
        if not is_real(weight) or weight <= 0:
            raise CompressionSpecError(f"error weights must be finite and > 0, got {weight!r}")
    order = sorted(shapes, key=repr)
    ranks = {key: 1 for key in order}
    remaining = budget - smallest
    # entries (-gain per parameter, position in `order`, key); ties go to the earlier matrix
    heap: List[Tuple[float, int, Key]] = []

    def push(position: int, key: Key) -> None:
        rank = ranks[key]
        if rank < largest_useful_rank(shapes[key]) and rank < spectra[key].numel():
            gain = weights[key] * float(spectra[key][rank]) ** 2 / sum(shapes[key])
            heapq.heappush(heap, (-gain, position, key))

    for position, key in enumerate(order):
        push(position, key)
    while heap:
        _, position, key = heapq.heappop(heap)
        cost = sum(shapes[key])
        if cost > remaining:
            continue  # this matrix's next rank does not fit; cheaper ones may
        ranks[key] += 1
        remaining -= cost
        push(position, key)
    return ranks


def predicted_error(
    spectra: Mapping[Key, torch.Tensor],
    ranks: Mapping[Key, int],
    error_weights: Optional[Mapping[Key, float]] = None,
) -> float:
    """sum_k w_k sum_{i > r_k} s_{k,i}^2: what `allocate_ranks` minimizes."""
    return sum(
        (1.0 if error_weights is None else error_weights[key])
        * float((spectra[key][rank:].to(torch.float64) ** 2).sum())
        for key, rank in ranks.items()
    )
