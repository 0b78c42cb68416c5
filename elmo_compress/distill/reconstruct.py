"""
Teacher-forced reconstruction: each compressed LSTM cell, on its own, learns to take the uncompressed
cell's steps. Label-free and softmax-free like `distill` (the teacher is the uncompressed biLM, the
text any unlabeled text), but local: a cell is trained on rows of the teacher's own trajectory,

    (x_t, h_{t-1}, c_{t-1}) -> (h_t, c_t)

recorded on calibration text (x_t the cell's input as the teacher computes it, h and c the teacher
cell's projected state and memory; stateless sentences, so every trajectory starts from zeros), with

    loss = sum ||h - h_T||^2 / sum ||h_T||^2  +  sum ||c - c_T||^2 / sum ||c_T||^2

over a batch of rows: the relative error of the cell's next state and memory, the two things the next
step and the layer above consume. One step of one cell costs a few matrix products on independent
rows (no sequential loop, no backpropagation through time), so thousands of steps take about as long
as a few hundred end-to-end distillation steps, and each cell starts the end-to-end stage (when there
is one) from a fit of its own.

It is what the post-training methods for large models call layer-wise reconstruction (fitting each
compressed block to the uncompressed block's outputs on calibration inputs), applied to a recurrent
cell by feeding it the teacher's states: without them the inputs of W_h would be the student's own.
"""

import math
from dataclasses import asdict, dataclass
from typing import Any, Dict, Iterator, List, Sequence, Tuple

import torch
from allennlp.modules.elmo import batch_to_ids
from allennlp.modules.lstm_cell_with_projection import LstmCellWithProjection

from elmo_compress.constants import (
    DISTILL_TRAIN_CHOICES,
    RECONSTRUCT_LEARNING_RATE,
    RECONSTRUCT_ROWS_PER_STEP,
    RECONSTRUCT_STEPS,
)
from elmo_compress.distill.checks import check_teacher_and_student, usable_sentences
from elmo_compress.distill.settings import DistillError, cosine_learning_rate
from elmo_compress.distill.training import select_trainable, student_weights
from elmo_compress.factorize.checks import is_int, is_real
from elmo_compress.modules import CompressedElmoBiLm, lstm_cells
from elmo_compress.modules.fast_lstm import clip_state, gated_memory
from elmo_compress.modules.runtime_options import RuntimeOptions
from elmo_compress.progress import bar
from elmo_compress.train_loop import run_steps
from elmo_compress.weights import ElmoWeights
from elmo_compress.weights.layout import cell_module_name

# The teacher runs the fast biLSTM without carried states: every sentence starts from zeros.
_STATELESS = RuntimeOptions(stateful=False)
# Sentences per batch when recording the teacher's trajectories (sorted by length, to pad little).
_RECORD_BATCH_SIZE = 64


@dataclass(frozen=True)
class ReconstructSettings:
    """
    # Parameters

    steps : `int`, optional (default = `500`)
        Adam steps per cell (cosine decay of the learning rate to 0 at the last one).
    rows_per_step : `int`, optional (default = `2048`)
        Teacher rows (timesteps of the calibration text) per step, drawn without replacement.
    learning_rate : `float`, optional (default = `0.003`)
        Adam's learning rate at the first step.
    train : `str`, optional (default = `"all"`)
        `"factors"`: the compressed matrices only; `"all"`: every parameter of the cell (factors, any
        dense matrix left, the bias and the state projection).
    seed : `int`, optional (default = `0`)
        Seeds the rows drawn; same seed, same result.
    """

    steps: int = RECONSTRUCT_STEPS
    rows_per_step: int = RECONSTRUCT_ROWS_PER_STEP
    learning_rate: float = RECONSTRUCT_LEARNING_RATE
    train: str = "all"
    seed: int = 0

    def __post_init__(self) -> None:
        for name, least in (("steps", 1), ("rows_per_step", 1), ("seed", 0)):
            value = getattr(self, name)
            if not is_int(value) or value < least:
                raise DistillError(f"reconstruct: {name} must be an integer >= {least}, got {value!r}")
        if not is_real(self.learning_rate) or self.learning_rate <= 0:
            raise DistillError(f"reconstruct: learning_rate must be a finite number > 0, got {self.learning_rate!r}")
        if self.train not in DISTILL_TRAIN_CHOICES:
            raise DistillError(
                f"reconstruct: train must be one of {', '.join(DISTILL_TRAIN_CHOICES)}, got {self.train!r}"
            )

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    def learning_rate_at(self, step: int) -> float:
        """The learning rate of step `step` (0-based): cosine decay from `learning_rate` to 0."""
        return cosine_learning_rate(self.learning_rate, step, self.steps)


@dataclass(frozen=True)
class CellRows:
    """
    Rows of one cell's trajectory, one per real timestep: the step's inputs and what it produced.

    # Parameters

    inputs : `torch.Tensor`
        x_t, shape (rows, input_size).
    previous_state, previous_memory : `torch.Tensor`
        h_{t-1} and c_{t-1}, shapes (rows, hidden_size) and (rows, cell_size).
    state, memory : `torch.Tensor`
        h_t and c_t, same shapes.
    """

    inputs: torch.Tensor
    previous_state: torch.Tensor
    previous_memory: torch.Tensor
    state: torch.Tensor
    memory: torch.Tensor

    def __len__(self) -> int:
        return self.inputs.shape[0]

    def tensors(self) -> Tuple[torch.Tensor, ...]:
        return (self.inputs, self.previous_state, self.previous_memory, self.state, self.memory)

    def select(self, indices: torch.Tensor) -> "CellRows":
        return CellRows(*(tensor[indices] for tensor in self.tensors()))

    @staticmethod
    def concatenate(parts: Sequence["CellRows"]) -> "CellRows":
        return CellRows(*(torch.cat(tensors, 0) for tensors in zip(*(part.tensors() for part in parts))))


def cell_step(
    cell: LstmCellWithProjection, inputs: torch.Tensor, state: torch.Tensor, memory: torch.Tensor
) -> Tuple[torch.Tensor, torch.Tensor]:
    """
    One timestep of `LstmCellWithProjection.forward` (same arithmetic, gate order i, f, g, o), on
    independent rows and differentiable in the cell's parameters.

    # Parameters

    inputs : `torch.Tensor`
        Shape (rows, input_size).
    state, memory : `torch.Tensor`
        The previous projected state and memory, shapes (rows, hidden_size) and (rows, cell_size).

    # Returns

    The new state (rows, hidden_size) and memory (rows, cell_size).
    """
    # shape (rows, 4 * cell_size)
    gates = cell.input_linearity(inputs) + cell.state_linearity(state)
    memory, output = gated_memory(gates, memory, float(cell.memory_cell_clip_value or 0.0))
    # shape (rows, hidden_size)
    state = clip_state(cell.state_projection(output), float(cell.state_projection_clip_value or 0.0))
    return state, memory


def reverse_each(sequences: torch.Tensor, lengths: Sequence[int]) -> torch.Tensor:
    """Each row's first `length` timesteps in reverse order (padding stays at the end): (batch, time, dim)."""
    reversed_rows = sequences.clone()
    for row, length in enumerate(lengths):
        reversed_rows[row, :length] = sequences[row, :length].flip(0)
    return reversed_rows


def trajectory_rows(cell: LstmCellWithProjection, inputs: torch.Tensor, lengths: Sequence[int]) -> CellRows:
    """
    Run `cell` from zero states over each sequence (in the cell's own direction) and return one row per
    real timestep.

    # Parameters

    inputs : `torch.Tensor`
        Shape (batch, timesteps, input_size), in text order, padding after each length.
    lengths : `Sequence[int]`
        The real timesteps of each sequence.
    """
    if not cell.go_forward:
        inputs = reverse_each(inputs, lengths)
    batch, timesteps, _ = inputs.shape
    state = inputs.new_zeros(batch, cell.hidden_size)
    memory = inputs.new_zeros(batch, cell.cell_size)
    # shape (batch, timesteps): True where the timestep is real
    real = torch.arange(timesteps).unsqueeze(0) < torch.tensor(list(lengths)).unsqueeze(1)
    steps: List[Tuple[torch.Tensor, ...]] = []
    for step in range(timesteps):
        new_state, new_memory = cell_step(cell, inputs[:, step], state, memory)
        keep = real[:, step]
        steps.append((inputs[keep, step], state[keep], memory[keep], new_state[keep], new_memory[keep]))
        state, memory = new_state, new_memory
    return CellRows(*(torch.cat(parts, 0) for parts in zip(*steps)))


def layer_inputs(bilm: CompressedElmoBiLm, character_ids: torch.Tensor) -> Tuple[List[torch.Tensor], List[int]]:
    """
    The input sequence of every LSTM layer (the token layer for layer 0, the output of the layer below,
    skip connection included, for the others) and the lengths (boundaries included).

    # Returns

    One tensor per layer, shape (batch, timesteps + 2, 2 * projection_dim) (forward half, backward half;
    layer 0 repeats the token layer in both halves), and the lengths.
    """
    encoded = bilm._token_embedder(character_ids)
    token_embedding, mask = encoded["token_embedding"], encoded["mask"]
    # shape (num_layers, batch, timesteps + 2, 2 * projection_dim)
    outputs = bilm._elmo_lstm(token_embedding, mask)
    layers = [torch.cat([token_embedding, token_embedding], -1)] + list(outputs.unbind(0))[:-1]
    return layers, mask.sum(1).tolist()


def teacher_rows(
    teacher: CompressedElmoBiLm, sentences: Sequence[List[str]], layer: int, direction: int
) -> CellRows:
    """
    The rows of the teacher's cell (`layer`, `direction`) on every timestep of `sentences` (no gradient).
    One pass of the teacher over the text per cell: the rows of one cell at a time are what is held.
    """
    cell = getattr(teacher._elmo_lstm, cell_module_name(layer, direction))
    order = sorted(range(len(sentences)), key=lambda index: len(sentences[index]))
    parts = []
    with torch.no_grad():
        for start in range(0, len(order), _RECORD_BATCH_SIZE):
            batch = [sentences[index] for index in order[start : start + _RECORD_BATCH_SIZE]]
            layers, lengths = layer_inputs(teacher, batch_to_ids(batch))
            width = layers[layer].shape[-1] // 2
            # shape (batch, timesteps + 2, projection_dim): this direction's half
            inputs = layers[layer][..., direction * width : (direction + 1) * width]
            parts.append(trajectory_rows(cell, inputs, lengths))
    return CellRows.concatenate(parts)


def relative_errors(cell: LstmCellWithProjection, rows: CellRows) -> Tuple[torch.Tensor, torch.Tensor]:
    """
    The relative squared errors of the cell's state and memory on teacher-forced `rows` (scalars): the two
    terms of the loss (see the module docstring).
    """
    state, memory = cell_step(cell, rows.inputs, rows.previous_state, rows.previous_memory)
    state_error = ((state - rows.state) ** 2).sum() / (rows.state**2).sum().clamp_min(1e-30)
    memory_error = ((memory - rows.memory) ** 2).sum() / (rows.memory**2).sum().clamp_min(1e-30)
    return state_error, memory_error


def row_batches(count: int, rows_per_step: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
    """Endless batches of row indices: seeded permutations of all rows, cut into `rows_per_step`."""
    size = min(rows_per_step, count)
    while True:
        permutation = torch.randperm(count, generator=generator)
        for start in range(0, count - size + 1, size):
            yield permutation[start : start + size]


def reconstruct_cell(
    cell: LstmCellWithProjection, rows: CellRows, settings: ReconstructSettings, seed: int
) -> List[float]:
    """Train `cell` (in place) to take the teacher's steps on `rows`; returns every step's loss."""
    parameters = select_trainable(cell, settings.train)
    if not parameters:
        return []
    optimizer = torch.optim.Adam(parameters, lr=settings.learning_rate_at(0))
    generator = torch.Generator().manual_seed(seed)
    batches = (rows.select(indices) for indices in row_batches(len(rows), settings.rows_per_step, generator))

    def set_learning_rate(done: int) -> None:
        for group in optimizer.param_groups:
            group["lr"] = settings.learning_rate_at(done)

    # No gradient clipping (an infinite bound scales every gradient by exactly 1); one bar per cell, not per step.
    losses = run_steps(
        parameters,
        optimizer,
        batches,
        lambda batch: sum(relative_errors(cell, batch)),
        range(settings.steps),
        math.inf,
        set_learning_rate,
        show_progress=False,
    )
    for parameter in parameters:
        parameter.requires_grad = False
    return losses


def reconstruct_weights(
    teacher: ElmoWeights,
    student: ElmoWeights,
    sentences: Sequence[List[str]],
    settings: ReconstructSettings,
    show_progress: bool = True,
) -> ElmoWeights:
    """
    Train every cell of `student` (a compressed biLM made from `teacher`) to take `teacher`'s steps on
    the teacher's trajectories over `sentences` (see the module docstring). Returns the trained weights
    with the student's metadata plus a `reconstruct` record (settings, per-cell first and last loss).

    # Parameters

    teacher, student, sentences :
        As `distill_weights`'s (the uncompressed biLM, a compressed one made from it, the text, here the
        calibration sentences), with the same checks.
    settings : `ReconstructSettings`
    show_progress : `bool`, optional (default = `True`)
        A progress bar (stderr), one tick per cell.
    """
    check_teacher_and_student(teacher, student)
    sentences = usable_sentences(sentences)
    teacher_bilm = CompressedElmoBiLm(weights=teacher, runtime=_STATELESS).eval()
    student_bilm = CompressedElmoBiLm(weights=student, runtime=_STATELESS).eval()
    cells = list(lstm_cells(student_bilm._elmo_lstm))
    progress = bar(len(cells), "reconstructing", unit="cell") if show_progress else None
    record: Dict[str, Any] = {**settings.to_dict(), "sentences": len(sentences), "cells": []}
    for index, (layer, direction, cell) in enumerate(cells):
        rows = teacher_rows(teacher_bilm, sentences, layer, direction)
        losses = reconstruct_cell(cell, rows, settings, settings.seed * len(cells) + index)
        record["cells"].append(_cell_record(layer, direction, len(rows), losses))
        if progress is not None:
            progress.update(1)
            if losses:
                progress.set_postfix(loss=f"{losses[-1]:.4f}")
    if progress is not None:
        progress.close()
    return student_weights(student_bilm, student, settings.train, {**student.metadata, "reconstruct": record})


def _cell_record(layer: int, direction: int, rows: int, losses: List[float]) -> Dict[str, Any]:
    record: Dict[str, Any] = {"layer": layer, "direction": direction, "rows": rows, "steps": len(losses)}
    if losses:
        record.update(first_step_loss=losses[0], last_step_loss=losses[-1])
    return record
