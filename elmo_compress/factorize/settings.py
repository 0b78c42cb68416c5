"""
`MethodSettings`: what a compression method may need besides the matrix and the rank.
"""

from dataclasses import dataclass
from typing import Callable, Optional

import torch

from elmo_compress.constants import DEFAULT_MAX_ITERATIONS, DEFAULT_TOLERANCE
from elmo_compress.errors import CompressionSpecError
from elmo_compress.factorize.checks import is_int, is_real

# Called by iterative methods after every iteration with (iteration from 1, objective).
IterationCallback = Callable[[int, float], None]


@dataclass(frozen=True)
class MethodSettings:
    """
    Settings shared by the compression methods; each method reads the ones it needs.

    # Parameters

    max_iterations : `int`, optional (default = `300`)
        Iteration limit of iterative methods (Semi-NMF), >= 1.
    tolerance : `float`, optional (default = `1e-5`)
        Stop an iterative method once an iteration improves its objective by a smaller share, >= 0.
    statistics : `torch.Tensor`, optional (default = `None`)
        Second moment E[x x^T] of the matrix's inputs, shape (n, n), for activation-aware methods.
    on_iteration : `Callable[[int, float], None]`, optional (default = `None`)
        Progress callback of iterative methods: (iteration from 1, objective).
    """

    max_iterations: int = DEFAULT_MAX_ITERATIONS
    tolerance: float = DEFAULT_TOLERANCE
    statistics: Optional[torch.Tensor] = None
    on_iteration: Optional[IterationCallback] = None

    def __post_init__(self) -> None:
        if not is_int(self.max_iterations) or self.max_iterations < 1:
            raise CompressionSpecError(f"max_iterations must be an int >= 1, got {self.max_iterations!r}")
        if not is_real(self.tolerance) or self.tolerance < 0:
            raise CompressionSpecError(f"tolerance must be a finite number >= 0, got {self.tolerance!r}")
