import csv
import json
from pathlib import Path

from allennlp.modules.elmo import Elmo, batch_to_ids

from elmo_compress.commands import main
from elmo_compress.commands.demo_downstream import run_downstream_demo
from elmo_compress.lm import pretrain
from elmo_compress.lm.bundle import DEMO_BUNDLE

from tests.conftest import shared_fixture
from tests.lm.test_language_model import SENTENCES, tiny_config


def test_shipped_demo_bilm_loads_in_allennlp():
    elmo = Elmo(f"{DEMO_BUNDLE}/options.json", f"{DEMO_BUNDLE}/weights.hdf5", 1, dropout=0.0)
    output = elmo(batch_to_ids([["A", "function", "returns", "a", "value", "."]]))
    assert output["elmo_representations"][0].shape == (1, 6, 128)
    assert (Path(DEMO_BUNDLE) / "vocab.txt").exists() and (Path(DEMO_BUNDLE) / "softmax.hdf5").exists()


def test_demo_writes_table_csv_and_plot(tmp_path: Path, capsys):
    bundle = tmp_path / "bundle"
    pretrain(SENTENCES, str(bundle), tiny_config(steps=5))
    output = tmp_path / "demo"
    arguments = ["demo", "--bundle", str(bundle), "--ranks", "2", "4", "--finetune-steps", "2"]
    arguments += ["--finetune-rank", "4", "--downstream-task", "none"]
    assert main(arguments + ["--output-dir", str(output), "--held-out-sentences", "20"]) == 0
    with open(output / "lm_compression.csv") as table:
        rows = list(csv.DictReader(table))
    assert len(rows) == 1 + 3 * 3 * 2 + 1  # uncompressed, methods x targets x ranks, one fine-tuned
    assert rows[0]["method"] == "none" and rows[-1]["finetune_steps"] == "2"
    assert float(rows[0]["metric_drop"]) == 0.0 and all(row["metric_name"] == "perplexity_mean" for row in rows)
    assert {row["method"] for row in rows[1:]} == {"svd", "semi_nmf", "prune"}
    assert (output / "lm_compression.md").read_text().startswith("| method |")
    assert (output / "perplexity_vs_rank.png").read_bytes()[:4] == b"\x89PNG"
    assert "max abs difference: 0.00e+00" in capsys.readouterr().out
    assert json.loads((output / "analysis" / "analysis.json").read_text())["matrices"]
    assert not list(output.glob("downstream_*"))


def test_downstream_demo_trains_and_sweeps(tmp_path: Path, monkeypatch, capsys):
    elmo, sst = shared_fixture("elmo"), str(shared_fixture("tasks", "sst.txt"))
    monkeypatch.setenv("ELMO_OPTIONS_FILE", str(elmo / "options.json"))
    monkeypatch.setenv("ELMO_WEIGHT_FILE", str(elmo / "lm_weights.hdf5"))
    monkeypatch.setenv("ELMO_DIM", "32")
    for variable in ("SST_TRAIN_DATA_PATH", "SST_DEV_DATA_PATH", "SST_TEST_DATA_PATH"):
        monkeypatch.setenv(variable, sst)
    run_downstream_demo("sentiment", str(tmp_path), ranks=[4], epochs=1)
    with open(tmp_path / "downstream_sentiment" / "sweep.csv") as table:
        rows = list(csv.DictReader(table))
    assert len(rows) == 1 + 3 * 3 and rows[0]["metric_name"] == "accuracy"
    assert "| prune | both |" in capsys.readouterr().out
    run_downstream_demo("sentiment", str(tmp_path), ranks=[4], epochs=1)  # reuses the archive and the rows
    assert "reusing" in capsys.readouterr().out
