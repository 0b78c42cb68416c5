import json
from pathlib import Path
from typing import List, Tuple

import pytest
import torch
from PIL import Image

from elmo_compress.analysis import Budget, analyze_matrix
from elmo_compress.commands import main
from elmo_compress.analysis.run import write_analysis
from elmo_compress.weights import ElmoWeights

from tests.helpers import assert_no_output, one_error_line, run_cli, sweep_rows, write_random_bilm, write_sweep

FIGURES = [
    "spectra.png",
    "energy.png",
    "error_vs_rank.png",
    "norms.png",
    "heatmap_layer0_forward.png",
    "heatmap_layer0_backward.png",
    "heatmap_layer1_forward.png",
    "heatmap_layer1_backward.png",
    "norm_vs_drop.png",
]
OUTPUTS = ["analysis.json", "analysis.md", "recommended_compression.json"] + FIGURES


@pytest.fixture(scope="module")
def bilm(tmp_path_factory) -> Tuple[str, str]:
    return write_random_bilm(tmp_path_factory.mktemp("bilm"))


@pytest.fixture(scope="module")
def sweep_csv(tmp_path_factory) -> str:
    return write_sweep(tmp_path_factory.mktemp("sweep") / "sweep.csv", sweep_rows())


@pytest.fixture(scope="module")
def analyzed(bilm, sweep_csv, tmp_path_factory) -> Path:
    output_dir = tmp_path_factory.mktemp("analysis")
    assert main(["analyze", *bilm, "-o", str(output_dir), "--sweep", sweep_csv, "--error-budget", "0.6"]) == 0
    return output_dir


def test_writes_every_output(analyzed: Path) -> None:
    assert sorted(path.name for path in analyzed.iterdir()) == sorted(OUTPUTS)
    for name in FIGURES:
        with Image.open(analyzed / name) as image:
            assert image.format == "PNG" and image.size[0] >= 700 and image.size[1] >= 300
    markdown = (analyzed / "analysis.md").read_text()
    for heading in ("## W_i vs W_h", "## Every matrix", "## Relative error at equal", "## Recommended ranks"):
        assert heading in markdown
    assert "## Norms vs metric drop (sweep)" in markdown and "![norm_vs_drop.png](norm_vs_drop.png)" in markdown


def test_json_numbers_are_those_of_the_matrices(analyzed: Path, bilm) -> None:
    document = json.loads((analyzed / "analysis.json").read_text())
    records = {record["name"]: record for record in document["matrices"]}
    # 2 layers x 2 directions x (W_i, W_h, W_P), then highway transform and carry and the char-CNN projection.
    assert len(records) == 15 and list(records)[-3:] == [
        "highway 0 W_transform",
        "highway 0 W_carry",
        "char-CNN projection",
    ]
    weights = ElmoWeights.load(*bilm)
    for name, weight in [
        ("layer 1 backward W_h", weights.matrix(1, 1, "recurrent").to_dense()),
        ("layer 0 forward W_i", weights.matrix(0, 0, "input").to_dense()),
        ("highway 0 W_carry", -weights.char_encoder.highways[0][0][weights.options.num_filters :]),
    ]:
        expected = analyze_matrix(weight)
        assert records[name]["shape"] == expected.shape
        assert records[name]["singular_values"] == pytest.approx(expected.singular_values, rel=1e-12)
        assert records[name]["row_l1_std"] == pytest.approx(expected.row_l1_std, rel=1e-12)
        assert records[name]["prune_error"] == pytest.approx(expected.prune_error, rel=1e-12)
    summary = document["target_summary"]["recurrent"]
    cells = [
        records[f"layer {layer} {direction} W_h"] for layer in (0, 1) for direction in ("forward", "backward")
    ]
    assert summary["nuclear_norm"] == pytest.approx(sum(r["nuclear_norm"] for r in cells) / 4, rel=1e-12)
    assert document["sweep"]["norms"]["recurrent"]["l1_norm"] == pytest.approx(summary["l1_norm"], rel=1e-12)


def test_recommended_block_is_what_compress_accepts(analyzed: Path, bilm, tmp_path: Path) -> None:
    document = json.loads((analyzed / "analysis.json").read_text())
    recommendation = document["recommendation"]
    assert recommendation["budget"] == {"kind": "error", "value": 0.6}
    block_file = analyzed / "recommended_compression.json"
    assert json.loads(block_file.read_text()) == recommendation["compression"]
    assert main(["compress", *bilm, "-o", str(tmp_path / "out"), "--compression", str(block_file)]) == 0
    compressed = ElmoWeights.load(bilm[0], str(tmp_path / "out" / "weights.hdf5"))
    for row in recommendation["matrices"]:
        matrix = compressed.matrix(row["layer"], row["direction"], row["target"])
        assert matrix.rank == row["rank"]
        original = ElmoWeights.load(*bilm).matrix(row["layer"], row["direction"], row["target"]).to_dense()
        assert matrix.relative_error(original) <= 0.6 + 1e-6
    lstm_parameters = sum(compressed.matrices[key].num_parameters() for key in compressed.matrices)
    assert lstm_parameters == recommendation["parameters_after"]
    assert compressed.num_parameters() == recommendation["bilm_parameters_after"]


def test_same_input_same_bytes(analyzed: Path, bilm, sweep_csv: str, tmp_path: Path) -> None:
    write_analysis(*bilm, str(tmp_path), sweep_csv=sweep_csv, budget=Budget("error", 0.6))
    for name in OUTPUTS:
        assert (tmp_path / name).read_bytes() == (analyzed / name).read_bytes(), name


def _assert_error_and_nothing_written(capsys, output_dir: Path, expected: str) -> None:
    one_error_line(capsys, expected)
    assert_no_output(output_dir)


@pytest.mark.parametrize(
    "arguments,expected",
    [
        (["--energy-budget", "1.5"], "--energy-budget: must be a number in (0, 1], got 1.5"),
        (["--error-budget", "0"], "--error-budget: must be a number in (0, 1], got 0"),
        (["--sweep", "SWEEP"], "unknown method 'tucker'"),
        (["--sweep", "MISSING"], "sweep CSV not found"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    bilm, tmp_path: Path, capsys, arguments: List[str], expected
) -> None:
    rows = sweep_rows()
    rows[2]["method"] = "tucker"
    sweep = write_sweep(tmp_path / "bad.csv", rows)
    arguments = [{"SWEEP": sweep, "MISSING": str(tmp_path / "none.csv")}.get(a, a) for a in arguments]
    output_dir = tmp_path / "out"
    assert run_cli(["analyze", *bilm, "-o", str(output_dir), *arguments]) == 2
    _assert_error_and_nothing_written(capsys, output_dir, expected)


def test_missing_corrupt_or_compressed_weights(bilm, tmp_path: Path, capsys) -> None:
    output_dir = tmp_path / "out"
    assert main(["analyze", bilm[0], str(tmp_path / "missing.hdf5"), "-o", str(output_dir)]) == 2
    _assert_error_and_nothing_written(capsys, output_dir, "missing.hdf5")
    corrupt = tmp_path / "corrupt.hdf5"
    corrupt.write_bytes(b"not an hdf5 file")
    assert main(["analyze", bilm[0], str(corrupt), "-o", str(output_dir)]) == 2
    _assert_error_and_nothing_written(capsys, output_dir, "corrupt.hdf5")
    assert main(["compress", *bilm, "-o", str(tmp_path / "compressed"), "--rank", "2"]) == 0
    capsys.readouterr()
    assert main(["analyze", bilm[0], str(tmp_path / "compressed" / "weights.hdf5"), "-o", str(output_dir)]) == 2
    _assert_error_and_nothing_written(capsys, output_dir, "already compressed")


def test_help_names_the_outputs(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["analyze", "--help"])
    assert exit_.value.code == 0
    printed = capsys.readouterr().out
    assert "usage: compress-elmo analyze" in printed and "--error-budget" in printed and "--sweep" in printed
