"""
`allennlp train` with the `compressed_elmo` embedder and `--include-package elmo_compress`, then
`allennlp evaluate` on its archive, as subprocesses (the way users run them).
"""

import json
import subprocess
import sys
from pathlib import Path

CONLL = """-DOCSTART- -X- -X- O

Compression NN I-NP O
helps NNP I-NP O
Seattle NNP I-NP I-LOC
engineers NN I-NP O
. . O O

Joel NNP I-NP I-PER
lives VBZ I-VP O
in IN I-PP O
Paris NNP I-NP I-LOC
. . O O

"""


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    completed = subprocess.run(
        [sys.executable, "-m", "allennlp", *args, "--include-package", "elmo_compress"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed


def test_train_then_evaluate_with_compressed_elmo(random_bilm, tmp_path: Path):
    options_file, weight_file = random_bilm
    data = tmp_path / "train.conll"
    data.write_text(CONLL)
    config = {
        "dataset_reader": {
            "type": "conll2003",
            "tag_label": "ner",
            "token_indexers": {"elmo": {"type": "elmo_characters"}},
        },
        "train_data_path": str(data),
        "validation_data_path": str(data),
        "model": {
            "type": "simple_tagger",
            "text_field_embedder": {
                "token_embedders": {
                    "elmo": {
                        "type": "compressed_elmo",
                        "options_file": options_file,
                        "weight_file": weight_file,
                        "dropout": 0.0,
                        "compression": {"method": "svd", "target": "recurrent", "rank": 3},
                    }
                }
            },
            "encoder": {"type": "lstm", "input_size": 16, "hidden_size": 6},
        },
        "data_loader": {"batch_size": 2},
        "trainer": {"num_epochs": 1, "optimizer": {"type": "adam", "lr": 0.01}, "cuda_device": -1},
    }
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    serialization_dir = tmp_path / "model"
    _run("train", str(config_file), "-s", str(serialization_dir), cwd=tmp_path)
    archive = serialization_dir / "model.tar.gz"
    assert archive.exists()
    metrics_file = tmp_path / "metrics.json"
    _run("evaluate", str(archive), str(data), "--output-file", str(metrics_file), cwd=tmp_path)
    metrics = json.loads(metrics_file.read_text())
    assert 0.0 <= metrics["accuracy"] <= 1.0 and "loss" in metrics
