"""`DistillSettings`: the schedule of one distillation run, checked when made."""

import math
from dataclasses import asdict, dataclass
from typing import Any, Dict

from elmo_compress.constants import (
    DISTILL_BATCH_SIZE,
    DISTILL_CHECKPOINT_EVERY,
    DISTILL_LEARNING_RATE,
    DISTILL_STEPS,
    DISTILL_TRAIN_CHOICES,
    DISTILL_WARMUP,
)
from elmo_compress.errors import ElmoCompressError
from elmo_compress.factorize.checks import is_int, is_real

# What `train` may name: the compressed matrices only, or every LSTM parameter.
TRAIN_CHOICES = DISTILL_TRAIN_CHOICES
SCHEDULES = ("constant", "cosine")


class DistillError(ElmoCompressError):
    """Settings, text or weights that `distill` cannot use."""


@dataclass(frozen=True)
class DistillSettings:
    """
    # Parameters

    steps : `int`, optional (default = `300`)
        Optimizer steps (Adam), one batch of sentences each.
    batch_size : `int`, optional (default = `32`)
        Sentences per batch.
    learning_rate : `float`, optional (default = `0.01`)
        Adam's learning rate at the first step.
    seed : `int`, optional (default = `0`)
        Seeds the order of the batches (and torch's RNG); same seed, same result.
    train : `str`, optional (default = `"factors"`)
        `"factors"`: only the parameters that store compressed matrices (the SVD factors); `"all"`:
        every LSTM parameter (factors, any dense matrix left, biases, state projections). The character
        encoder is never trained: it is the teacher's, so the token layer stays exact.
    schedule : `str`, optional (default = `"cosine"`)
        `"constant"` learning rate, or `"cosine"` decay from `learning_rate` to 0 at the last step.
    gradient_clip : `float`, optional (default = `5.0`)
        Largest gradient norm (as `finetune` and `pretrain`).
    warmup : `float`, optional (default = `0.1`)
        The first `ceil(warmup * steps)` steps scale the schedule's learning rate by `(step + 1) / that`:
        Adam's first updates, made before its second-moment estimates settle, are kept small. 0 turns it off.
    checkpoint_every : `int`, optional (default = `100`)
        Write the checkpoint every this many steps (and at the end), when a checkpoint path is given.
    """

    steps: int = DISTILL_STEPS
    batch_size: int = DISTILL_BATCH_SIZE
    learning_rate: float = DISTILL_LEARNING_RATE
    seed: int = 0
    train: str = "factors"
    schedule: str = "cosine"
    gradient_clip: float = 5.0
    warmup: float = DISTILL_WARMUP
    checkpoint_every: int = DISTILL_CHECKPOINT_EVERY

    def __post_init__(self) -> None:
        for name, least in (("steps", 1), ("batch_size", 1), ("seed", 0), ("checkpoint_every", 1)):
            value = getattr(self, name)
            if not is_int(value) or value < least:
                raise DistillError(f"distill: {name} must be an integer >= {least}, got {value!r}")
        for name in ("learning_rate", "gradient_clip"):
            value = getattr(self, name)
            if not is_real(value) or value <= 0:
                raise DistillError(f"distill: {name} must be a finite number > 0, got {value!r}")
        if not is_real(self.warmup) or not 0 <= self.warmup < 1:
            raise DistillError(f"distill: warmup must be a number in [0, 1), got {self.warmup!r}")
        if self.train not in TRAIN_CHOICES:
            raise DistillError(f"distill: train must be one of {', '.join(TRAIN_CHOICES)}, got {self.train!r}")
        if self.schedule not in SCHEDULES:
            raise DistillError(f"distill: schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}")

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    def learning_rate_at(self, step: int) -> float:
        """The learning rate of step `step` (0-based): the schedule's, scaled during the warmup."""
        warmup_steps = math.ceil(self.warmup * self.steps)
        scale = min(1.0, (step + 1) / warmup_steps) if warmup_steps > 0 else 1.0
        if self.schedule == "constant":
            return scale * self.learning_rate
        return scale * cosine_learning_rate(self.learning_rate, step, self.steps)


def cosine_learning_rate(initial: float, step: int, steps: int) -> float:
    """The learning rate of step `step` (0-based) of `steps`, decaying from `initial` to 0 on a cosine."""
    return 0.5 * initial * (1.0 + math.cos(math.pi * step / steps))
