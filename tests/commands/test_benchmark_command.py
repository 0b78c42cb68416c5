"""
The speed benchmark runs end to end and writes speed.md, speed.png, speed.json and perplexities.json as
one set: on a tiny random biLM in the place of the ELMo-size one (so every section, the targets and the
whole-biLM rows with the character cache run), small batches and a short text, perplexities of the demo
biLM on a few held-out sentences. One repeat, no timing assertions: speed is reported, not tested.
"""

import json
from pathlib import Path

import pytest

from elmo_compress.benchmark import models, perplexity, report, targets, timing
from elmo_compress.benchmark.models import Model
from elmo_compress.data import split_held_out, stdlib_sentences
from elmo_compress.weights.synthetic import elmo_options, random_elmo_weights

ROW_KEYS = {"model", "scope", "batch", "setting", "x_stock", "x_ideal", "deviation", "ppl_ratio"}


@pytest.fixture
def tiny(monkeypatch):
    """
    A tiny random biLM as "elmo" (projection 16: ranks 4 and 8 are demo ranks 16 and 32), small batches,
    a short text.
    """
    options = elmo_options(16, 32, filters=((1, 4), (2, 8)), num_highway=1)
    model = Model("elmo", "tiny random biLM", lambda: random_elmo_weights(options, seed=0), (4, 8), 4)
    monkeypatch.setitem(models.MODELS, "elmo", lambda: model)
    monkeypatch.setattr(timing, "SHAPES", ((1, 5), (3, 6)))
    monkeypatch.setattr(timing, "WARM_TOKENS", 300)
    # the documentation topics only (the whole embedded corpus parses the standard library's sources)
    split = split_held_out(stdlib_sentences(limit=300, docstrings=False))
    monkeypatch.setattr(report, "default_split", lambda: (split.train, split.held_out))
    monkeypatch.setattr(targets, "WHOLE_BILM_TARGETS", (((3, 6), 4.0), ((1, 5), 8.0)))
    monkeypatch.setattr(targets, "CACHE_TARGET", ((3, 6), 1.3))


def _rows(output: Path):
    data = json.loads((output / "speed.json").read_text())
    return data["header"], data["rows"]


def test_benchmark_writes_report_plot_and_json(tiny, tmp_path: Path):
    output = tmp_path / "speed"
    report.run_speed_benchmark(str(output), ("elmo",), threads=1, repeats=1, whole_bilm=("elmo",), perplexity_sentences=3)
    text = (output / "speed.md").read_text()
    assert "](speed.png)" in text and "MACs/token" in text and "x ppl (demo)" in text and "cache hit rate" in text
    assert "best compressed setting with <= 1.05x demo perplexity" in text and "char cache alone" in text
    assert (output / "speed.png").read_bytes()[:4] == b"\x89PNG"
    header, rows = _rows(output)
    assert {"date", "machine", "blas", "threads", "torch_version", "command", "targets"} <= set(header)
    assert header["machine"]["cpu_vendor"] and header["threads"] == 1
    assert {row["scope"] for row in rows} == {"bilstm", "whole_bilm"} and {row["batch"] for row in rows} == {"1x5", "3x6"}
    assert all(ROW_KEYS <= set(row) for row in rows)
    whole = [row for row in rows if row["scope"] == "whole_bilm" and row["batch"] == "3x6"]
    assert [row["setting"] for row in whole] == [setting.label for setting in models.bilm_settings(models.MODELS["elmo"]())]
    stock = whole[0]
    assert stock["x_stock"] == 1.0 and stock["deviation"] == 0.0 and stock["ppl_ratio"] == 1.0
    assert all(row["x_stock"] > 0 and row["ppl_ratio"] > 0 for row in rows)
    for row in whole:
        assert (row["cache_hit_rate"] is not None) == row["char_cache"]
        if row["char_cache"]:  # the encoder ran on fewer token rows: fewer multiply-adds, a higher ideal
            assert 0 < row["cache_hit_rate"] <= 1 and row["x_ideal"] > 1
        if not row["int8"] and row["target"] is None and row["loop"] != "allennlp":
            assert row["deviation"] < 1e-4  # fast path, cached or not: stock up to float32 rounding
    # the SVD rows at ranks 4 and 8 of 16 carry the demo's ranks 16 and 32 of 64
    cached = json.loads((output / "perplexities.json").read_text())["entries"]
    assert {entry["setting"]["rank"] for entry in cached} == {None, 16, 32}


def test_perplexities_are_reused_from_the_output_folder(tiny, tmp_path: Path, monkeypatch):
    output = tmp_path / "speed"
    arguments = dict(threads=1, repeats=1, whole_bilm=(), perplexity_sentences=3)
    report.run_speed_benchmark(str(output), ("elmo",), **arguments)
    first = _rows(output)[1]
    monkeypatch.setattr(perplexity.DemoPerplexities, "_evaluate", lambda self, demo: pytest.fail(f"evaluated {demo}"))
    report.run_speed_benchmark(str(output), ("elmo",), force=True, **arguments)
    assert [row["ppl_ratio"] for row in _rows(output)[1]] == [row["ppl_ratio"] for row in first]
    assert "reused from `perplexities.json`" in (output / "speed.md").read_text()


def test_unknown_recipe_is_refused_before_any_work(tmp_path: Path):
    from elmo_compress.errors import ElmoCompressError

    with pytest.raises(ElmoCompressError, match="unknown perplexity recipe 'shrinkk'; known: svd"):
        report.run_speed_benchmark(str(tmp_path / "speed"), ("elmo",), perplexity_recipe="shrinkk")
    assert not (tmp_path / "speed").exists()
