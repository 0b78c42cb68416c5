import csv
import json
from pathlib import Path

import pytest
from allennlp.modules.elmo import Elmo, batch_to_ids

from elmo_compress.commands import main
from elmo_compress.constants import DEMO_BILM_DIR, DEMO_TASKS_DIR
from elmo_compress.demo.downstream import run_downstream_demo
from elmo_compress.lm import pretrain
from elmo_compress.reporting.results import COLUMNS, read_rows_csv

from tests.helpers import SENTENCES, one_error_line, run_cli, tiny_config, write_random_bilm


def test_shipped_demo_bilm_loads_in_allennlp():
    elmo = Elmo(f"{DEMO_BILM_DIR}/options.json", f"{DEMO_BILM_DIR}/weights.hdf5", 1, dropout=0.0)
    output = elmo(batch_to_ids([["A", "function", "returns", "a", "value", "."]]))
    assert output["elmo_representations"][0].shape == (1, 6, 128)
    assert (Path(DEMO_BILM_DIR) / "vocab.txt").exists() and (Path(DEMO_BILM_DIR) / "softmax.hdf5").exists()


@pytest.fixture(scope="module")
def tiny_bundle(tmp_path_factory) -> Path:
    bundle = tmp_path_factory.mktemp("bundle")
    pretrain(SENTENCES, str(bundle), tiny_config(steps=5), force=True)
    return bundle


def test_demo_writes_table_csv_and_plot(tiny_bundle: Path, tmp_path: Path, capsys):
    output = tmp_path / "demo"
    arguments = ["demo", "--bundle", str(tiny_bundle), "--ranks", "2", "4", "--finetune-steps", "2"]
    arguments += ["--finetune-rank", "4", "--downstream-task", "none", "--held-out-sentences", "20"]
    assert main(arguments + ["--output-dir", str(output)]) == 0
    with open(output / "lm_compression.csv") as table:
        reader = csv.DictReader(table)
        assert reader.fieldnames == COLUMNS
        rows = list(reader)
    assert len(rows) == 1 + 3 * 3 * 2 + 1  # uncompressed, methods x targets x ranks, one fine-tuned
    assert (rows[0]["method"], rows[0]["target"]) == ("none", "none")
    assert (rows[-1]["training"], rows[-1]["training_steps"]) == ("finetune", "2")
    assert float(rows[0]["metric_drop"]) == 0.0 and all(row["metric_name"] == "perplexity_mean" for row in rows)
    assert {row["method"] for row in rows[1:]} == {"svd", "semi_nmf", "prune"}
    assert (output / "lm_compression.md").read_text().startswith("| method |")
    assert (output / "perplexity_vs_rank.png").read_bytes()[:4] == b"\x89PNG"
    assert "max abs difference: 0.00e+00" in capsys.readouterr().out
    assert json.loads((output / "analysis" / "analysis.json").read_text())["matrices"]
    assert not list(output.glob("downstream_*"))
    # A second run refuses to replace the results unless told.
    assert run_cli(arguments + ["--output-dir", str(output)]) == 2
    one_error_line(capsys, "pass --force")
    assert main(arguments + ["--output-dir", str(output), "--force"]) == 0


def test_demo_defaults_to_the_probe_over_three_seeds():
    from elmo_compress.commands import build_parser

    args = build_parser().parse_args(["demo"])
    assert (args.downstream_task, args.downstream_seeds, args.downstream_epochs) == ("probe", 3, None)
    for task in ("sentiment", "ner", "snli", "none"):
        assert build_parser().parse_args(["demo", "--downstream-task", task]).downstream_task == task


@pytest.mark.slow
def test_downstream_demo_trains_and_sweeps_per_seed(tmp_path: Path, monkeypatch, capsys):
    options_file, weight_file = write_random_bilm(tmp_path / "elmo")
    monkeypatch.setenv("ELMO_OPTIONS_FILE", options_file)
    monkeypatch.setenv("ELMO_WEIGHT_FILE", weight_file)
    monkeypatch.setenv("ELMO_DIM", "16")
    for split in ("train", "dev", "test"):
        lines = (Path(DEMO_TASKS_DIR) / "sentiment" / f"{split}.txt").read_text().splitlines()
        sliced = tmp_path / f"sst_{split}.txt"
        sliced.write_text("\n".join(lines[:: max(1, len(lines) // 40)]) + "\n")
        monkeypatch.setenv(f"SST_{split.upper()}_DATA_PATH", str(sliced))
    rows = run_downstream_demo("sentiment", str(tmp_path), ["svd", "prune"], ranks=[4], epochs=1, seeds=2)
    assert len(rows) == 1 + 2 * 3 and rows[0].metric_name == "accuracy"
    assert all(row.seeds == 2 and row.metric_spread is not None for row in rows)
    folder = tmp_path / "downstream_sentiment"
    per_seed = [read_rows_csv((folder / f"seed_{seed}" / "sweep" / "sweep.csv").read_text(), "seed") for seed in (0, 1)]
    assert rows[0].metric == pytest.approx((per_seed[0][0].metric + per_seed[1][0].metric) / 2)
    configs = [json.loads((folder / f"seed_{seed}" / "model" / "config.json").read_text()) for seed in (0, 1)]
    assert [config["pytorch_seed"] for config in configs] == [133, 134]
    assert read_rows_csv((folder / "sweep.csv").read_text(), "table") == rows
    markdown = (folder / "sweep.md").read_text()
    assert "| prune | both |" in markdown and "over 2 training seeds" in markdown
    run_downstream_demo("sentiment", str(tmp_path), ["svd", "prune"], ranks=[4], epochs=1, seeds=2)  # reuses archives and rows
    assert "reusing" in capsys.readouterr().out
