"""
The three downstream tasks end to end, the way users run them: `allennlp train` (small plain-ELMo
config, one epoch, the fixture files in the official formats and allennlp's toy biLM), then
`compress-elmo archive`, then `allennlp evaluate` on the compressed archive. At full rank the
compressed archive must give the original's metrics.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict

import pytest

from elmo_compress.commands import main

from tests.conftest import shared_fixture

REPO = Path(__file__).resolve().parents[2]
# task: (config, fixture file, environment variables for train and dev data, metric)
TASKS = {
    "snli": ("snli/esim_elmo_small.jsonnet", "snli.jsonl", "SNLI", "accuracy"),
    "ner": ("ner/ner_elmo_small.jsonnet", "conll2003.txt", "NER", "f1-measure-overall"),
    "sentiment": ("sentiment/bcn_elmo_small.jsonnet", "sst.txt", "SST", "accuracy"),
}


def _environment(task: str) -> Dict[str, str]:
    _, data_file, prefix, _ = TASKS[task]
    data = str(shared_fixture("tasks", data_file))
    elmo = shared_fixture("elmo")
    environment = dict(os.environ)
    environment.update(
        {
            "ELMO_OPTIONS_FILE": str(elmo / "options.json"),
            "ELMO_WEIGHT_FILE": str(elmo / "lm_weights.hdf5"),
            f"{prefix}_TRAIN_DATA_PATH": data,
            f"{prefix}_DEV_DATA_PATH": data,
            f"{prefix}_TEST_DATA_PATH": data,
        }
    )
    environment.pop("ELMO_DIM", None)  # follows ELMO_OPTIONS_FILE
    return environment


def _allennlp(*args: str, environment: Dict[str, str]) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "allennlp", *args, "--include-package", "elmo_compress"],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]


def _evaluate(archive: Path, task: str, output: Path) -> Dict[str, float]:
    data = str(shared_fixture("tasks", TASKS[task][1]))
    _allennlp("evaluate", str(archive), data, "--output-file", str(output), environment=_environment(task))
    return json.loads(output.read_text())


@pytest.fixture(scope="module", params=sorted(TASKS))
def trained(request, tmp_path_factory) -> Dict[str, object]:
    task = request.param
    folder = tmp_path_factory.mktemp(task)
    config = str(REPO / "training_configs" / TASKS[task][0])
    overrides = json.dumps({"trainer.num_epochs": 1})
    _allennlp("train", config, "-s", str(folder / "run"), "-o", overrides, environment=_environment(task))
    return {"task": task, "archive": folder / "run" / "model.tar.gz", "folder": folder}


def test_compressed_archive_evaluates_and_full_rank_keeps_metrics(trained):
    task, archive, folder = trained["task"], trained["archive"], trained["folder"]
    metric = TASKS[task][3]
    original = _evaluate(archive, task, folder / "original.json")

    full = folder / "full_rank.tar.gz"
    assert main(["archive", str(archive), "-o", str(full), "--method", "svd", "--fraction", "1.0"]) == 0
    full_metrics = _evaluate(full, task, folder / "full_rank.json")
    assert full_metrics[metric] == original[metric]
    assert full_metrics["loss"] == pytest.approx(original["loss"], abs=1e-4)

    low = folder / "rank4.tar.gz"
    arguments = ["archive", str(archive), "-o", str(low), "--method", "prune", "--target", "recurrent"]
    assert main(arguments + ["--rank", "4"]) == 0
    low_metrics = _evaluate(low, task, folder / "rank4.json")
    assert 0.0 <= low_metrics[metric] <= 1.0 and low_metrics["loss"] != original["loss"]


def _sweep_rows(path: Path):
    import csv

    with open(path) as table:
        return list(csv.DictReader(table))


def test_sweep_writes_table_plots_and_resumes(trained):
    task, archive, folder = trained["task"], trained["archive"], trained["folder"]
    data = str(shared_fixture("tasks", TASKS[task][1]))
    output = folder / "sweep"
    arguments = ["sweep", str(archive), data, "-o", str(output), "--methods", "svd", "prune"]
    arguments += ["--targets", "recurrent", "--ranks", "4", "16"]
    assert main(arguments) == 0
    rows = _sweep_rows(output / "sweep.csv")
    assert [(row["method"], row["rank"]) for row in rows] == [
        ("none", ""),
        ("svd", "4"),
        ("svd", "16"),
        ("prune", "4"),
        ("prune", "16"),
    ]
    assert rows[0]["metric_name"] == TASKS[task][3] and float(rows[0]["metric_drop"]) == 0.0
    assert rows[2]["metric"] == rows[0]["metric"]  # rank 16 is full rank for the toy biLM
    assert int(rows[1]["lstm_matrix_parameters"]) < int(rows[0]["lstm_matrix_parameters"])
    assert (output / "sweep.md").read_text().count("| svd | recurrent |") == 1
    for plot in ("metric_vs_rank.png", "metric_vs_parameters.png"):
        assert (output / plot).read_bytes()[:4] == b"\x89PNG"

    # Resuming: a row lost from the CSV is computed again, the others are kept as they are.
    lines = (output / "sweep.csv").read_text().splitlines(keepends=True)
    (output / "sweep.csv").write_text("".join(lines[:-1]))
    assert main(arguments) == 0
    resumed = _sweep_rows(output / "sweep.csv")
    assert resumed[:-1] == rows[:-1] and len(resumed) == len(rows)
    assert (resumed[-1]["method"], resumed[-1]["rank"]) == ("prune", "16")


def test_sweep_rejects_a_file_in_another_tasks_format(trained, capsys):
    task, archive, folder = trained["task"], trained["archive"], trained["folder"]
    other = {"snli": "conll2003.txt", "ner": "snli.jsonl", "sentiment": "snli.jsonl"}[task]
    data = str(shared_fixture("tasks", other))
    assert main(["sweep", str(archive), data, "-o", str(folder / "bad"), "--ranks", "4"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("compress-elmo: error: ") and other in error and "\n" not in error
    assert not (folder / "bad" / "sweep.csv").exists()
