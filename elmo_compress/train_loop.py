"""
What every training loop of the package shares (`pretrain`, `finetune`, `distill`): the optimizer
steps with gradient clipping, a progress bar with the running loss and one error line when the loss
stops being finite; and checkpoints that resume exactly (model, optimizer, RNG, step, whatever else
the loop keeps) and refuse, in one line, a checkpoint of another training.
"""

import io
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, TypeVar

import torch

from elmo_compress.errors import ElmoCompressError
from elmo_compress.outputs import atomic_write_bytes
from elmo_compress.progress import bar

Batch = TypeVar("Batch")

# How many of the latest step losses the progress bar averages.
RUNNING_WINDOW = 50


def running_mean(losses: Sequence[float], window: int = RUNNING_WINDOW) -> float:
    """Mean of the last `window` losses (of all of them when there are fewer)."""
    recent = losses[-window:]
    return sum(recent) / len(recent)


def run_steps(
    parameters: List[torch.nn.Parameter],
    optimizer: torch.optim.Optimizer,
    batches: Iterator[Batch],
    batch_loss: Callable[[Batch], torch.Tensor],
    steps: range,
    gradient_clip: float,
    on_step: Optional[Callable[[int], None]] = None,
    postfix: Callable[[float], Dict[str, str]] = lambda loss: {"loss": f"{loss:.4g}"},
    description: str = "training",
    losses: Optional[List[float]] = None,
    show_progress: bool = True,
) -> List[float]:
    """
    Run `steps` optimizer steps, one batch each: `batch_loss(batch)`, backward, clip the gradient
    norm of `parameters` to `gradient_clip`, step. Appends each step's loss to `losses` (the losses
    of earlier steps, when resuming) and returns it. The bar shows `postfix(running mean loss)`;
    `on_step(steps done)` runs after every step (checkpoints). A loss that is not finite (training
    diverged) ends the run with one error line.
    """
    losses = [] if losses is None else losses
    progress = bar(len(steps), description, unit="step") if show_progress else None
    try:
        for step in steps:
            loss = batch_loss(next(batches))
            if not torch.isfinite(loss):
                raise ElmoCompressError(
                    f"training diverged at step {step + 1} (the loss is {float(loss)}); lower the learning rate"
                )
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(parameters, gradient_clip)
            optimizer.step()
            losses.append(float(loss))
            if progress is not None:
                progress.set_postfix(postfix(running_mean(losses)))
                progress.update(1)
            if on_step is not None:
                on_step(step + 1)
    finally:
        if progress is not None:
            progress.close()
    return losses


def save_checkpoint(
    path: str,
    identity: Dict[str, Any],
    step: int,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    extra: Optional[Dict[str, Any]] = None,
) -> None:
    """
    Write `path` atomically: what the training is (`identity`, compared on resume), the steps done,
    the model and optimizer states, torch's RNG state and `extra` (what else the loop keeps).
    """
    state = {
        "identity": identity,
        "step": step,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "rng": torch.get_rng_state(),
        "extra": extra or {},
    }
    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def read_checkpoint(path: str, identity: Dict[str, Any], may_differ: Iterable[str] = ()) -> Dict[str, Any]:
    """
    The checkpoint at `path` if it is of this same training: its identity equals `identity` but for
    the keys `may_differ` (e.g. the number of steps). Otherwise, or when it cannot be read, one error line.
    """
    try:
        state = torch.load(path)
        saved = dict(state["identity"])
    except Exception as error:  # truncated or foreign files fail in pickle, zipfile or torch
        raise ElmoCompressError(f"checkpoint {path} cannot be read ({type(error).__name__}); delete it to start over") from None
    skip = set(may_differ)
    differing = sorted(name for name in set(identity) | set(saved) if name not in skip and saved.get(name) != identity.get(name))
    if differing:
        changes = ", ".join(f"{name} {_short(saved.get(name))} -> {_short(identity.get(name))}" for name in differing)
        raise ElmoCompressError(f"checkpoint {path} is from another training ({changes}); use its settings or delete it")
    return state


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def restore(state: Dict[str, Any], model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> int:
    """Load a checkpoint's model, optimizer and RNG states; returns its step."""
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    torch.set_rng_state(state["rng"])
    return int(state["step"])
