"""
Teacher-forced reconstruction (`elmo_compress.distill.reconstruct`) on biLMs the tests make: the step
function is allennlp's cell, the recorded rows are the teacher's trajectory, training lowers the loss
and the end-to-end error, the result is deterministic and loads, bad settings are one line.
"""

from typing import List

import pytest
import torch
from allennlp.modules.elmo import batch_to_ids

from elmo_compress.distill import Distillation, DistillError, DistillSettings
from elmo_compress.distill.reconstruct import (
    ReconstructSettings,
    layer_inputs,
    reconstruct_weights,
    relative_errors,
    reverse_each,
    teacher_rows,
    trajectory_rows,
)
from elmo_compress.distill.checks import weights_sha256
from elmo_compress.factorize import CompressionSpec
from elmo_compress.modules import CompressedElmoBiLm, lstm_cells
from elmo_compress.modules.runtime_options import RuntimeOptions
from elmo_compress.weights import ElmoWeights, compress_weights

from tests.helpers import SENTENCES, same_tensors, unfactorized_tensors

ALLENNLP_LOOP = RuntimeOptions(fast_path=False, stateful=False)
QUICK = dict(steps=40, rows_per_step=32, learning_rate=0.01)


@pytest.fixture()
def teacher(random_bilm) -> ElmoWeights:
    return ElmoWeights.load(*random_bilm)


def _student(teacher: ElmoWeights, rank: int = 2) -> ElmoWeights:
    return compress_weights(teacher, CompressionSpec.from_dict({"method": "svd", "target": "both", "rank": rank}))[0]


def _step_major(sequences: torch.Tensor, lengths: List[int]) -> torch.Tensor:
    """The real rows of (batch, timesteps, dim) in the order `trajectory_rows` records them: by timestep."""
    real = torch.arange(sequences.shape[1]).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)
    return torch.cat([sequences[real[:, step], step] for step in range(sequences.shape[1])])


def test_trajectories_are_allennlps_cells_in_float64(teacher):
    """Every cell's recorded states are allennlp's own `ElmoLstm` outputs (its timestep loop), to float64
    rounding: the step function, the direction handling and the layer inputs are allennlp's."""
    bilm = CompressedElmoBiLm(weights=teacher, runtime=ALLENNLP_LOOP).double().eval()
    with torch.no_grad():
        character_ids = batch_to_ids(SENTENCES)
        layers, lengths = layer_inputs(bilm, character_ids)
        encoded = bilm._token_embedder(character_ids)
        outputs = bilm._elmo_lstm(encoded["token_embedding"], encoded["mask"])
        for layer, direction, cell in lstm_cells(bilm._elmo_lstm):
            width = layers[layer].shape[-1] // 2
            inputs = layers[layer][..., direction * width : (direction + 1) * width]
            rows = trajectory_rows(cell, inputs, lengths)
            # allennlp's output, without the skip connection (layers above 0 add their input)
            expected = outputs[layer][..., direction * width : (direction + 1) * width]
            expected = expected - inputs if layer > 0 else expected
            expected = reverse_each(expected, lengths) if direction == 1 else expected
            assert len(rows) == sum(lengths)
            torch.testing.assert_close(rows.state, _step_major(expected, lengths), rtol=0, atol=1e-12)
            # each row's previous state is the row before it in its sequence (zeros at the start)
            starts = rows.previous_state[: len(lengths)]
            assert torch.equal(starts, torch.zeros(len(lengths), width, dtype=torch.float64))


def test_the_teacher_reconstructs_itself_exactly(teacher):
    """On its own rows the teacher's cells have zero loss (float64 rounding): the loss measures only what the
    student changed."""
    bilm = CompressedElmoBiLm(weights=teacher, runtime=RuntimeOptions(stateful=False)).double().eval()
    for layer, direction, cell in lstm_cells(bilm._elmo_lstm):
        rows = teacher_rows(bilm, SENTENCES, layer, direction)
        with torch.no_grad():
            state_error, memory_error = relative_errors(cell, rows)
        assert float(state_error) < 1e-24 and float(memory_error) < 1e-24


def _distillation_loss(teacher: ElmoWeights, student: ElmoWeights) -> float:
    with torch.no_grad():
        return float(Distillation(teacher, student, DistillSettings()).batch_loss(SENTENCES))


@pytest.mark.parametrize("train", ["factors", "all"])
def test_reconstruction_lowers_the_losses_and_is_deterministic(teacher, train):
    student = _student(teacher)
    settings = ReconstructSettings(train=train, **QUICK)
    trained = reconstruct_weights(teacher, student, SENTENCES, settings, show_progress=False)
    cells = trained.metadata["reconstruct"]["cells"]
    assert len(cells) == 4 and all(cell["last_step_loss"] < 0.8 * cell["first_step_loss"] for cell in cells)
    # the local fit carries over to the whole biLM's layers, which it never saw
    assert _distillation_loss(teacher, trained) < 0.8 * _distillation_loss(teacher, student)
    assert trained.layout() == student.layout()
    if train == "factors":
        assert same_tensors(unfactorized_tensors(trained), unfactorized_tensors(student))
    again = reconstruct_weights(teacher, student, SENTENCES, settings, show_progress=False)
    assert weights_sha256(again) == weights_sha256(trained)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"steps": 0}, "reconstruct: steps must be an integer >= 1, got 0"),
        ({"rows_per_step": 1.5}, "reconstruct: rows_per_step must be an integer >= 1, got 1.5"),
        ({"learning_rate": float("nan")}, "reconstruct: learning_rate must be a finite number > 0, got nan"),
        ({"train": "encoder"}, "reconstruct: train must be one of factors, all, got 'encoder'"),
    ],
)
def test_bad_settings_are_one_line(changes, message):
    with pytest.raises(DistillError) as error:
        ReconstructSettings(**changes)
    assert str(error.value) == message


def test_refuses_a_student_of_other_weights_and_empty_text(teacher, tmp_path):
    from tests.helpers import write_random_bilm

    other = ElmoWeights.load(*write_random_bilm(tmp_path / "other", seed=1))
    with pytest.raises(DistillError, match="is not made from these weights"):
        reconstruct_weights(teacher, _student(other), SENTENCES, ReconstructSettings(**QUICK), show_progress=False)
    with pytest.raises(DistillError, match="the text has no usable sentence"):
        reconstruct_weights(teacher, _student(teacher), [[], []], ReconstructSettings(**QUICK), show_progress=False)
