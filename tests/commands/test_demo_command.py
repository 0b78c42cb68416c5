import csv
from pathlib import Path

from allennlp.modules.elmo import Elmo, batch_to_ids

from elmo_compress.commands import main
from elmo_compress.lm import pretrain
from elmo_compress.lm.bundle import DEMO_BUNDLE

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
    arguments = [
        "demo",
        "--bundle",
        str(bundle),
        "--ranks",
        "2",
        "4",
        "--finetune-steps",
        "2",
        "--finetune-rank",
        "4",
    ]
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
