"""
`compress-elmo distill` and `elmo_compress.distill` on biLMs the tests make: the loss falls, a
full-rank student starts at ~0, resuming is exact, bad input is one line, and the written file is
what `compressed_elmo` and `perplexity` read.
"""

import dataclasses
import hashlib
import math
from pathlib import Path
from typing import Tuple

import pytest
import torch
from allennlp.common import Params
from allennlp.modules.elmo import batch_to_ids
from allennlp.modules.token_embedders import TokenEmbedder

from elmo_compress.data import write_corpus
from elmo_compress.distill import CHECKPOINT_NAME, Distillation, DistillError, DistillSettings, distill_weights
from elmo_compress.factorize import CompressionSpec
from elmo_compress.lm import pretrain
from elmo_compress.weights import ElmoWeights, compress_weights
from elmo_compress.weights.compress import compress_files

from tests.helpers import (
    SENTENCES,
    assert_no_output,
    one_error_line,
    run_cli,
    same_tensors,
    tiny_config,
    unfactorized_tensors,
    write_random_bilm,
)

TINY = dict(batch_size=6, learning_rate=0.01, checkpoint_every=3)


def _student(teacher: ElmoWeights, rank: int) -> ElmoWeights:
    return compress_weights(teacher, CompressionSpec.from_dict({"method": "svd", "target": "both", "rank": rank}))[0]


@pytest.fixture()
def teacher(random_bilm) -> ElmoWeights:
    return ElmoWeights.load(*random_bilm)


def _loss(teacher: ElmoWeights, student: ElmoWeights) -> float:
    """The distillation loss of `student` on every test sentence at once."""
    with torch.no_grad():
        return float(Distillation(teacher, student, DistillSettings()).batch_loss(SENTENCES))


def test_loss_decreases(teacher):
    student = _student(teacher, 2)
    trained = distill_weights(teacher, student, SENTENCES, DistillSettings(steps=12, **TINY), show_progress=False)
    before, after = _loss(teacher, student), _loss(teacher, trained)
    assert after < 0.7 * before, (before, after)
    record = trained.metadata["distill"]
    assert record["steps"] == 12 and record["last_step_loss"] < record["first_step_loss"]
    assert trained.layout() == student.layout() and trained.metadata["compression"] == student.metadata["compression"]


def test_full_rank_student_starts_at_zero(teacher):
    # W_i and W_h are (4 * 24) x 8: rank 8 is full rank, so the factors reproduce every matrix to
    # float32 rounding (relative error ~1e-7); the layers then agree to ~1e-6 and the squared relative
    # error is ~1e-12. A rank-1 student is far off.
    assert _loss(teacher, _student(teacher, 8)) < 1e-9
    assert _loss(teacher, _student(teacher, 1)) > 1e-3


def test_token_layer_and_untrained_arrays_stay_the_teachers(teacher):
    student = _student(teacher, 2)
    trained = distill_weights(teacher, student, SENTENCES, DistillSettings(steps=2, **TINY), show_progress=False)
    assert same_tensors(unfactorized_tensors(trained), unfactorized_tensors(student))
    everything = distill_weights(teacher, student, SENTENCES, DistillSettings(steps=2, train="all", **TINY), show_progress=False)
    assert torch.equal(everything.char_encoder.projection[0], student.char_encoder.projection[0])
    assert not torch.equal(everything.cell(0, 0).projection, student.cell(0, 0).projection)


def _compressed_files(folder: Path, seed: int = 0) -> Tuple[str, str, str]:
    options_file, weight_file = write_random_bilm(folder / "bilm", seed=seed)
    spec = CompressionSpec.from_dict({"method": "svd", "target": "both", "rank": 2})
    compress_files(options_file, weight_file, spec, str(folder / "compressed"))
    return options_file, weight_file, str(folder / "compressed" / "weights.hdf5")


@pytest.fixture()
def files(tmp_path: Path) -> Tuple[str, str, str, str]:
    text = tmp_path / "text.txt"
    write_corpus(SENTENCES, str(text))
    return (*_compressed_files(tmp_path), str(text))


def _distill_arguments(files, output: Path, steps: int = 6):
    options_file, weight_file, compressed_file, text = files
    return ["distill", options_file, weight_file, compressed_file, "-o", str(output), "--text", text, "--steps", str(steps),
            "--batch-size", "6", "--learning-rate", "0.01", "--checkpoint-every", "3"]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_resume_is_exact(files, tmp_path: Path, monkeypatch, capsys):
    assert run_cli(_distill_arguments(files, tmp_path / "straight")) == 0
    original = Distillation.batch_loss
    calls = []

    def interrupted(self, sentences):
        calls.append(1)
        if len(calls) == 5:  # in step 5, after the step-3 checkpoint
            raise KeyboardInterrupt
        return original(self, sentences)

    monkeypatch.setattr(Distillation, "batch_loss", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_cli(_distill_arguments(files, tmp_path / "resumed"))
    assert not (tmp_path / "resumed" / "weights.hdf5").exists() and (tmp_path / "resumed" / CHECKPOINT_NAME).exists()
    monkeypatch.setattr(Distillation, "batch_loss", original)
    calls.clear()
    assert run_cli(_distill_arguments(files, tmp_path / "resumed")) == 0
    assert _digest(tmp_path / "straight" / "weights.hdf5") == _digest(tmp_path / "resumed" / "weights.hdf5")
    # A checkpoint of other settings is refused in one line.
    capsys.readouterr()
    arguments = _distill_arguments(files, tmp_path / "resumed") + ["--seed", "1", "-f"]
    assert run_cli(arguments) == 2
    one_error_line(capsys, "is from another training (seed 0 -> 1)")


def test_bad_input_is_one_line_and_writes_nothing(files, tmp_path: Path, capsys):
    output = tmp_path / "out"
    blank = tmp_path / "blank.txt"
    blank.write_text("\n  \n" + "word " * 150 + "\n", encoding="utf-8")  # blank lines, then one line too long
    assert run_cli(_distill_arguments(files, output) + ["--text", str(blank)]) == 2
    one_error_line(capsys, "has no sentence")
    other = _compressed_files(tmp_path / "other", seed=1)[2]
    arguments = _distill_arguments(files, output)
    arguments[3] = other
    assert run_cli(arguments) == 2
    one_error_line(capsys, "was made from weights with sha256")
    assert run_cli(_distill_arguments(files, output, steps=0)) == 2
    one_error_line(capsys, "--steps: must be an integer >= 1", prog="compress-elmo distill")
    assert run_cli(_distill_arguments(files, output) + ["--warmup", "1"]) == 2
    one_error_line(capsys, "--warmup: must be a number in [0, 1), got 1", prog="compress-elmo distill")
    arguments = _distill_arguments(files, output)
    arguments[3] = files[1]  # the official file itself
    assert run_cli(arguments) == 2
    one_error_line(capsys, "is not a compressed weights file")
    assert_no_output(output)


def test_student_of_other_weights_without_a_record_is_refused(teacher):
    encoder = teacher.char_encoder
    changed = dataclasses.replace(encoder, convolutions=[(encoder.convolutions[0][0], encoder.convolutions[0][1] + 1), *encoder.convolutions[1:]])
    other = _student(ElmoWeights(teacher.options, changed, teacher.lstm), 2)
    with pytest.raises(DistillError, match="its character encoder's conv_0.bias differs from the teacher's"):
        distill_weights(teacher, other, SENTENCES, DistillSettings(steps=1), show_progress=False)
    with pytest.raises(DistillError, match="no usable sentence"):
        distill_weights(teacher, _student(teacher, 2), [[], []], DistillSettings(steps=1), show_progress=False)
    with pytest.raises(DistillError, match="learning_rate must be a finite number"):
        DistillSettings(learning_rate=float("nan"))
    for warmup in (-0.1, 1.0, float("nan")):
        with pytest.raises(DistillError, match=r"warmup must be a number in \[0, 1\)"):
            DistillSettings(warmup=warmup)


def test_learning_rate_warms_up_then_follows_the_schedule():
    # 10 steps, warmup 0.2: steps 0 and 1 scale the schedule by 1/2 and 2/2.
    cosine = DistillSettings(steps=10, learning_rate=0.5, warmup=0.2)
    expected = [0.5 * 0.5 * (1 + math.cos(math.pi * step / 10)) for step in range(10)]
    expected[0] *= 0.5
    assert [cosine.learning_rate_at(step) for step in range(10)] == pytest.approx(expected, rel=1e-12)
    constant = DistillSettings(steps=10, learning_rate=0.5, warmup=0.25, schedule="constant")  # ceil(2.5) = 3 steps
    assert [constant.learning_rate_at(step) for step in range(4)] == pytest.approx([0.5 / 3, 1 / 3, 0.5, 0.5], rel=1e-12)
    assert DistillSettings(steps=10, learning_rate=0.5, warmup=0.0, schedule="constant").learning_rate_at(0) == 0.5
    # The default: a tenth of the steps.
    assert DistillSettings(steps=300).learning_rate_at(0) == pytest.approx(DistillSettings().learning_rate / 30, rel=1e-12)


def test_output_is_read_by_compressed_elmo_and_perplexity(tmp_path: Path, capsys):
    bundle = tmp_path / "bundle"
    pretrain(SENTENCES, str(bundle), tiny_config(steps=3))
    spec = CompressionSpec.from_dict({"method": "svd", "target": "recurrent", "rank": 2})
    options_file, weight_file = str(bundle / "options.json"), str(bundle / "weights.hdf5")
    compress_files(options_file, weight_file, spec, str(tmp_path / "compressed"))
    text = tmp_path / "text.txt"
    write_corpus(SENTENCES, str(text))
    files = (options_file, weight_file, str(tmp_path / "compressed" / "weights.hdf5"), str(text))
    assert run_cli(_distill_arguments(files, tmp_path / "distilled", steps=2)) == 0
    distilled = str(tmp_path / "distilled" / "weights.hdf5")
    assert "wrote" in capsys.readouterr().out
    assert run_cli(["perplexity", str(bundle), "--weights", distilled, "--held-out", str(text)]) == 0
    assert '"mean"' in capsys.readouterr().out
    params = {"type": "compressed_elmo", "options_file": options_file, "weight_file": distilled, "dropout": 0.0}
    embedder = TokenEmbedder.from_params(Params(params)).eval()
    with torch.no_grad():
        assert embedder(batch_to_ids(SENTENCES[:2])).shape == (2, 7, 16)
    record = ElmoWeights.load(options_file, distilled).metadata["distill"]
    assert record["steps"] == 2 and record["sentences"] == len(SENTENCES) and len(record["text_sha256"]) == 64
