"""
The downstream demo's compression probe (`ner/ner_elmo_probe.jsonnet`) trains on a slice of the shipped
demo NER task with a small random biLM, its only input is ELMo with the scalar mix fixed to leave out
layer 0, and sweep rows from compressed weights files equal the rows of the same compression.
"""

import json
from pathlib import Path
from typing import Dict

import pytest
import torch

from elmo_compress.constants import DEMO_TASKS_DIR
from elmo_compress.demo.downstream import TRAINING_CONFIGS, seed_overrides

from tests.helpers import assert_no_output, one_error_line, run_cli, write_random_bilm

SENTENCES = 24  # per file: a few batches of 16


def _slice(split: str, folder: Path) -> str:
    blocks = (Path(DEMO_TASKS_DIR) / "ner" / f"{split}.txt").read_text(encoding="utf-8").split("\n\n")
    blocks = [block for block in blocks if block.strip() and not block.startswith("-DOCSTART-")]
    path = folder / f"{split}.txt"
    path.write_text("".join(block + "\n\n" for block in blocks[:: len(blocks) // SENTENCES][:SENTENCES]), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def probe(tmp_path_factory) -> Dict:
    from allennlp.commands.train import train_model_from_file

    from elmo_compress.downstream.archive import import_plugins_quietly

    folder = tmp_path_factory.mktemp("probe")
    options_file, weight_file = write_random_bilm(folder / "elmo")
    environment = {"ELMO_OPTIONS_FILE": options_file, "ELMO_WEIGHT_FILE": weight_file, "ELMO_DIM": "16"}
    environment.update({f"NER_{split.upper()}_DATA_PATH": _slice(split, folder) for split in ("train", "dev", "test")})
    patch = pytest.MonkeyPatch()
    for name, value in environment.items():
        patch.setenv(name, value)
    import_plugins_quietly()
    overrides = {"trainer.num_epochs": 1, **seed_overrides(1)}
    config = str(TRAINING_CONFIGS / "ner" / "ner_elmo_probe.jsonnet")
    model = train_model_from_file(config, str(folder / "run"), overrides=json.dumps(overrides))
    yield {"folder": folder, "model": model, "archive": folder / "run" / "model.tar.gz", "test": environment["NER_TEST_DATA_PATH"]}
    patch.undo()


def test_probe_reads_only_the_lstm_layers_of_elmo(probe):
    model = probe["model"]
    embedders = model.text_field_embedder._token_embedders
    assert list(embedders) == ["elmo"]  # no word embedding, no character CNN of its own
    mix = embedders["elmo"]._elmo.scalar_mix_0
    weights = torch.softmax(torch.cat([parameter for parameter in mix.scalar_parameters]), dim=0)
    assert weights[0] == 0.0 and torch.allclose(weights[1:], torch.tensor([0.5, 0.5]))  # layer 0 left out, after training
    assert not any(parameter.requires_grad for parameter in mix.parameters())  # fixed, not trained
    config = json.loads((probe["folder"] / "run" / "config.json").read_text())
    assert (config["random_seed"], config["numpy_seed"], config["pytorch_seed"]) == (13371, 1338, 134)
    metrics = json.loads((probe["folder"] / "run" / "metrics.json").read_text())
    assert metrics["epoch"] == 0 and 0.0 <= metrics["validation_f1-measure-overall"] <= 1.0


@pytest.mark.slow
def test_compressed_weights_row_equals_the_compressed_archive(probe, capsys):
    from elmo_compress.downstream.archive import load_model_archive
    from elmo_compress.downstream.sweep import evaluate_as_allennlp

    folder, archive, test_file = probe["folder"], str(probe["archive"]), probe["test"]
    elmo = folder / "elmo"
    compress = ["compress", str(elmo / "options.json"), str(elmo / "weights.hdf5"), "--target", "recurrent", "--rank", "2"]
    assert run_cli(compress + ["-o", str(folder / "svd2")]) == 0
    output = folder / "sweep"
    arguments = ["sweep", archive, test_file, "-o", str(output), "--methods", "svd", "--targets", "recurrent", "--ranks", "2"]
    assert run_cli(arguments + ["--compressed-weights", f"mine={folder / 'svd2' / 'weights.hdf5'}"]) == 0
    rows = {row.split(",")[0]: row.split(",") for row in (output / "sweep.csv").read_text().splitlines()[1:]}
    assert list(rows) == ["none", "svd", "mine"] and rows["mine"][1:3] == ["recurrent", "2"]
    assert rows["mine"][3:] == rows["svd"][3:]  # same metric, parameters and error as the svd recurrent rank 2 row
    assert run_cli(["archive", archive, "-o", str(folder / "archived"), "--target", "recurrent", "--rank", "2"]) == 0
    compressed = load_model_archive(str(folder / "archived" / "model.tar.gz"))
    metrics = evaluate_as_allennlp(compressed.model, compressed, test_file, None)
    assert float(rows["mine"][4]) == metrics["f1-measure-overall"]
    # The file itself as the archive's ELMo: the same archive, the same metric.
    arguments = ["archive", archive, "-o", str(folder / "from_file"), "--compressed-weights", str(folder / "svd2" / "weights.hdf5")]
    assert run_cli(arguments) == 0
    from_file = load_model_archive(str(folder / "from_file" / "model.tar.gz"))
    assert evaluate_as_allennlp(from_file.model, from_file, test_file, None) == metrics


@pytest.mark.slow
def test_compressed_weights_of_other_weights_are_one_error_line(probe, capsys):
    folder, archive, test_file = probe["folder"], str(probe["archive"]), probe["test"]
    other = folder / "other_elmo"
    options_file, weight_file = write_random_bilm(other, seed=7)
    assert run_cli(["compress", options_file, weight_file, "--rank", "2", "-o", str(other / "svd2")]) == 0
    output = folder / "refused"
    arguments = ["sweep", archive, test_file, "-o", str(output), "--methods", "svd", "--ranks", "2"]
    capsys.readouterr()
    assert run_cli(arguments + ["--compressed-weights", f"other={other / 'svd2' / 'weights.hdf5'}"]) == 2
    one_error_line(capsys, "compressed from other ELMo weights")
    assert run_cli(arguments + ["--compressed-weights", f"official={folder / 'elmo' / 'weights.hdf5'}"]) == 2
    one_error_line(capsys, "not a compressed weights file")
    assert run_cli(arguments + ["--compressed-weights", f"svd={other / 'svd2' / 'weights.hdf5'}"]) == 2
    one_error_line(capsys, "names a method row")
    assert run_cli(arguments + ["--compressed-weights", "no-equals-sign"]) == 2
    one_error_line(capsys, "give NAME=FILE")
    assert_no_output(output)
    refused = folder / "refused_archive"
    assert run_cli(["archive", archive, "-o", str(refused), "--compressed-weights", str(other / "svd2" / "weights.hdf5")]) == 2
    one_error_line(capsys, "compressed from other ELMo weights")
    assert_no_output(refused)
