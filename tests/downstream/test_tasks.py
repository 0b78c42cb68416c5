"""
The three downstream tasks end to end, the way users run them: `allennlp train` (small plain-ELMo config,
one epoch, small slices of the demo tasks the package ships, in the official SNLI / CoNLL-2003 / SST
formats, with a small random biLM the test writes), then `compress-elmo archive` and `sweep`, checked
against `allennlp evaluate` on the same files.
"""

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Dict, List

import pytest

from elmo_compress.constants import DEMO_TASKS_DIR

from tests.helpers import assert_no_output, one_error_line, run_cli, write_random_bilm

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
# task: (config, shipped demo-task folder and extension, environment variable prefix, metric)
TASKS = {
    "snli": ("snli/esim_elmo_small.jsonnet", "snli", "jsonl", "SNLI", "accuracy"),
    "ner": ("ner/ner_elmo_small.jsonnet", "ner", "txt", "NER", "f1-measure-overall"),
    "sentiment": ("sentiment/bcn_elmo_small.jsonnet", "sentiment", "txt", "SST", "accuracy"),
}
EXAMPLES = 48  # per file: enough for every label, small enough to train in seconds


def _records(path: Path, task: str) -> List[str]:
    text = path.read_text(encoding="utf-8")
    if task == "ner":  # sentences are blocks separated by blank lines
        return [block + "\n\n" for block in text.split("\n\n") if block.strip() and not block.startswith("-DOCSTART-")]
    return [line + "\n" for line in text.splitlines() if line.strip()]


def _slice(task: str, split: str, folder: Path) -> str:
    """Every k-th record of the shipped demo file, so that each label occurs."""
    _, name, extension, _, _ = TASKS[task]
    records = _records(Path(DEMO_TASKS_DIR) / name / f"{split}.{extension}", task)
    step = max(1, len(records) // EXAMPLES)
    path = folder / f"{split}.{extension}"
    path.write_text("".join(records[::step][:EXAMPLES]), encoding="utf-8")
    return str(path)


def _environment(task: str, data: Dict[str, str], bilm: Path) -> Dict[str, str]:
    prefix = TASKS[task][3]
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("ELMO_", prefix))}
    environment.update(
        {
            "ELMO_OPTIONS_FILE": str(bilm / "options.json"),
            "ELMO_WEIGHT_FILE": str(bilm / "weights.hdf5"),
            f"{prefix}_TRAIN_DATA_PATH": data["train"],
            f"{prefix}_DEV_DATA_PATH": data["dev"],
            f"{prefix}_TEST_DATA_PATH": data["test"],
        }
    )
    return environment


def _allennlp(*args: str, environment: Dict[str, str]) -> None:
    completed = subprocess.run(
        [str(Path(sys.executable).parent / "allennlp"), *args, "--include-package", "elmo_compress"],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]


def _evaluate(archive: Path, trained: Dict, output: Path) -> Dict[str, float]:
    _allennlp("evaluate", str(archive), trained["data"]["test"], "--output-file", str(output), environment=trained["environment"])
    return json.loads(output.read_text())


@pytest.fixture(scope="module", params=sorted(TASKS))
def trained(request, tmp_path_factory) -> Dict:
    task = request.param
    folder = tmp_path_factory.mktemp(task)
    bilm = folder / "elmo"
    write_random_bilm(bilm, projection_dim=8, cell_dim=24)
    data = {split: _slice(task, split, folder) for split in ("train", "dev", "test")}
    environment = _environment(task, data, bilm)
    config = str(REPO / "training_configs" / TASKS[task][0])
    overrides = json.dumps({"trainer.num_epochs": 1})
    _allennlp("train", config, "-s", str(folder / "run"), "-o", overrides, environment=environment)
    return {"task": task, "archive": folder / "run" / "model.tar.gz", "folder": folder, "data": data, "environment": environment, "bilm": bilm}


def test_compressed_archive_evaluates_and_full_rank_keeps_metrics(trained):
    task, archive, folder = trained["task"], trained["archive"], trained["folder"]
    metric = TASKS[task][4]
    original = _evaluate(archive, trained, folder / "original.json")
    assert run_cli(["archive", str(archive), "-o", str(folder / "full"), "--method", "svd", "--fraction", "1.0"]) == 0
    full_metrics = _evaluate(folder / "full" / "model.tar.gz", trained, folder / "full.json")
    assert full_metrics[metric] == original[metric]
    # Full-rank factors in float32 reproduce W to float32 rounding, which moves the loss by far less than 1e-4.
    assert full_metrics["loss"] == pytest.approx(original["loss"], abs=1e-4)


def test_compressed_archive_is_self_contained(trained, tmp_path: Path):
    archive, folder = trained["archive"], trained["folder"]
    output = tmp_path / "pruned"
    assert run_cli(["archive", str(archive), "-o", str(output), "--method", "prune", "--target", "recurrent", "--rank", "2"]) == 0
    with tarfile.open(output / "model.tar.gz") as packed:
        names = packed.getnames()
        config = json.load(packed.extractfile("config.json"))
    assert "meta.json" in names
    text = json.dumps(config)
    assert "weights.hdf5" not in text and "options.json" not in text and '"layout"' in text and '"options"' in text
    # The original ELMo files are not needed any more: move them away while the archive is evaluated.
    hidden = tmp_path / "hidden_elmo"
    shutil.move(str(trained["bilm"]), str(hidden))
    try:
        metrics = _evaluate(output / "model.tar.gz", trained, tmp_path / "pruned.json")
    finally:
        shutil.move(str(hidden), str(trained["bilm"]))
    assert 0.0 <= metrics[TASKS[trained["task"]][4]] <= 1.0


def _rows(path: Path) -> List[Dict[str, str]]:
    import csv

    with open(path, encoding="utf-8", newline="") as table:
        return list(csv.DictReader(table))


def test_sweep_rows_equal_allennlp_evaluate_and_resume(trained, capsys):
    task, archive, folder = trained["task"], trained["archive"], trained["folder"]
    metric = TASKS[task][4]
    test_file = trained["data"]["test"]
    output = folder / "sweep"
    arguments = ["sweep", str(archive), test_file, "-o", str(output), "--methods", "svd", "prune"]
    arguments += ["--targets", "recurrent", "--ranks", "4", "2", "4"]  # a repeated rank is evaluated once
    assert run_cli(arguments) == 0
    rows = _rows(output / "sweep.csv")
    assert [(row["method"], row["rank"]) for row in rows] == [("none", ""), ("svd", "4"), ("svd", "2"), ("prune", "4"), ("prune", "2")]
    assert rows[0]["metric_name"] == metric and float(rows[0]["metric_drop"]) == 0.0
    assert int(rows[1]["lstm_matrix_parameters"]) < int(rows[0]["lstm_matrix_parameters"])
    assert "as `allennlp evaluate` evaluates an archive" in (output / "sweep.md").read_text()
    for plot in ("metric_vs_rank.png", "metric_vs_parameters.png"):
        assert (output / plot).read_bytes()[:4] == b"\x89PNG"

    # The uncompressed row is what allennlp evaluate reports for the archive; a compressed row what it
    # reports for the archive `compress-elmo archive` writes for that setting.
    assert float(rows[0]["metric"]) == _evaluate(archive, trained, folder / "evaluate_original.json")[metric]
    assert run_cli(["archive", str(archive), "-o", str(folder / "svd4"), "--target", "recurrent", "--rank", "4"]) == 0
    assert float(rows[1]["metric"]) == _evaluate(folder / "svd4" / "model.tar.gz", trained, folder / "evaluate_svd4.json")[metric]

    # Resuming: a row lost from the CSV is computed again, the others are kept as they are.
    lines = (output / "sweep.csv").read_text().splitlines(keepends=True)
    (output / "sweep.csv").write_text("".join(lines[:-1]))
    assert run_cli(arguments) == 0
    resumed = _rows(output / "sweep.csv")
    assert resumed[:-1] == rows[:-1] and resumed[-1] == rows[-1]

    # Rows of another metric or evaluation file are not mixed in.
    capsys.readouterr()
    assert run_cli(arguments + ["--metric=-loss"]) == 2
    one_error_line(capsys, "computed with another metric")
    other = folder / "other_test_file"
    other.write_text(Path(test_file).read_text() + Path(test_file).read_text())
    assert run_cli(["sweep", str(archive), str(other)] + arguments[3:]) == 2
    one_error_line(capsys, "evaluation_file_sha256")


def test_sweep_refuses_before_any_work(trained, capsys):
    archive, folder, test_file = trained["archive"], trained["folder"], trained["data"]["test"]
    output = folder / "refused"
    # 8 x 96 matrices: rank 8 is full rank, above the break-even rank 96 * 8 / 104 = 7.4.
    assert run_cli(["sweep", str(archive), test_file, "-o", str(output), "--ranks", "2", "8"]) == 2
    one_error_line(capsys, "break-even rank 7.4")
    assert_no_output(output)
    assert run_cli(["sweep", str(archive), test_file, "-o", str(output), "--ranks", "2", "9"]) == 2
    one_error_line(capsys, "rank 9 does not fit")
    compressed = folder / "compressed_for_sweep"
    assert run_cli(["archive", str(archive), "-o", str(compressed), "--rank", "2"]) == 0
    capsys.readouterr()
    assert run_cli(["sweep", str(compressed / "model.tar.gz"), test_file, "-o", str(output), "--ranks", "2"]) == 2
    one_error_line(capsys, "already compressed")
    assert run_cli(["archive", str(compressed / "model.tar.gz"), "-o", str(folder / "twice"), "--rank", "2"]) == 2
    one_error_line(capsys, "already compressed")
    assert_no_output(output)


def test_sweep_rejects_a_file_in_another_tasks_format(trained, capsys):
    task, archive, folder = trained["task"], trained["archive"], trained["folder"]
    other_task = {"snli": "ner", "ner": "snli", "sentiment": "snli"}[task]
    other = _slice(other_task, "test", folder / "..")
    output = folder / "bad"
    assert run_cli(["sweep", str(archive), other, "-o", str(output), "--ranks", "4"]) == 2
    one_error_line(capsys, other)
    assert_no_output(output)
