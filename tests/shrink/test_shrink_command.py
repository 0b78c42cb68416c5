"""`compress-elmo shrink` in process on a tiny random biLM: outputs as a set, the block round trip, bad input."""

import json
from pathlib import Path

import pytest

from elmo_compress.factorize import CompressionSpec
from elmo_compress.weights import ElmoWeights

from tests.helpers import assert_no_output, one_error_line, run_cli, write_random_bilm

TEXT = "the cat sat on the mat\na dog barked\nit rains today again and again\nyes\nno it does not\n"


def shrink_arguments(options: str, weights: str, text: str, sentences: str) -> list:
    """`shrink` at budget 0.5 on `sentences` calibration sentences of `text` (output flags to add)."""
    return ["shrink", options, weights, "--budget", "0.5", "--text", text, "--calibration-sentences", sentences]


@pytest.fixture
def bilm(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("ELMO_COMPRESS_CACHE", str(tmp_path / "cache"))
    options, weights = write_random_bilm(tmp_path / "bilm")
    text = tmp_path / "text.txt"
    text.write_text(TEXT, encoding="utf-8")
    return options, weights, str(text)


def test_shrink_writes_the_set_and_meets_the_budget(bilm, tmp_path: Path, capsys) -> None:
    options, weights, text = bilm
    out = tmp_path / "out"
    assert run_cli(shrink_arguments(options, weights, text, "3") + ["-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert {path.name for path in out.iterdir()} == {
        "weights.hdf5",
        "options.json",
        "compression.json",
        "statistics.npz",
        "shrink_report.json",
    }
    original = ElmoWeights.load(options, weights)
    compressed = ElmoWeights.load(str(out / "options.json"), str(out / "weights.hdf5"))
    dense = sum(original.matrix(*key).num_parameters() for key in compressed.matrices)
    stored = sum(matrix.num_parameters() for matrix in compressed.matrices.values())
    assert stored <= 0.5 * dense
    assert f"LSTM W_i + W_h parameters: {dense:,} -> {stored:,}" in printed
    for stage in ("uncompressed:", "calibrate:", "allocate (measured):", "factorize:", "reconstruct:"):
        assert stage in printed
    report = json.loads((out / "shrink_report.json").read_text())
    stages = ["uncompressed", "calibrate", "allocate", "factorize", "reconstruct"]
    assert [stage["stage"] for stage in report["stages"]] == stages
    cells = compressed.metadata["reconstruct"]["cells"]
    assert len(cells) == 4 and all(cell["steps"] == 500 for cell in cells)
    # the block is what made the file: compress --compression with it gives the same matrices
    block = json.loads((out / "compression.json").read_text())
    spec = CompressionSpec.from_dict(block)
    assert CompressionSpec.from_dict(spec.to_dict()) == spec and spec.statistics == str(
        (out / "statistics.npz").resolve()
    )
    again = tmp_path / "again"
    assert (
        run_cli(["compress", options, weights, "--compression", str(out / "compression.json"), "-o", str(again)])
        == 0
    )
    recompressed = ElmoWeights.load(str(again / "options.json"), str(again / "weights.hdf5"))
    factorized = tmp_path / "factorized"
    closed_form = ["--reconstruct-steps", "0", "-o", str(factorized)]
    assert run_cli(shrink_arguments(options, weights, text, "3") + closed_form) == 0
    unreconstructed = ElmoWeights.load(str(factorized / "options.json"), str(factorized / "weights.hdf5"))
    for key, matrix in compressed.matrices.items():
        assert matrix.rank == recompressed.matrices[key].rank
        # the factors as `factorize` made them, before reconstruction trained them
        assert (unreconstructed.matrices[key].to_dense() - recompressed.matrices[key].to_dense()).abs().max() <= 1e-6


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--budget", "0"], "must be a number in (0, 1], got 0"),
        (["--budget", "1.5"], "must be a number in (0, 1], got 1.5"),
        (["--budget", "nan"], "expected a finite number"),
        (["--budget", "0.01"], "below the smallest allocation, rank 1 everywhere"),
        (
            ["--budget", "0.5", "--reconstruct-steps", "-1"],
            "argument --reconstruct-steps: must be an integer >= 0, got -1",
        ),
    ],
)
def test_bad_budgets(bilm, tmp_path: Path, capsys, arguments, message: str) -> None:
    options, weights, text = bilm
    out = tmp_path / "out"
    assert run_cli(["shrink", options, weights, "--text", text, "-o", str(out)] + arguments) == 2
    one_error_line(capsys, message)
    assert_no_output(out)


def test_text_without_a_usable_sentence(bilm, tmp_path: Path, capsys) -> None:
    options, weights, _ = bilm
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n", encoding="utf-8")
    out = tmp_path / "out"
    assert run_cli(["shrink", options, weights, "--budget", "0.5", "--text", str(empty), "-o", str(out)]) == 2
    one_error_line(capsys, "is empty")
    assert_no_output(out)


def test_statistics_of_other_weights(bilm, tmp_path: Path, capsys) -> None:
    options, weights, text = bilm
    first = tmp_path / "first"
    assert run_cli(shrink_arguments(options, weights, text, "2") + ["-o", str(first)]) == 0
    capsys.readouterr()
    other_options, other_weights = write_random_bilm(tmp_path / "other", seed=1)
    out = tmp_path / "out"
    arguments = [
        "shrink",
        other_options,
        other_weights,
        "--budget",
        "0.5",
        "--text",
        text,
        "--statistics",
        str(first / "statistics.npz"),
        "-o",
        str(out),
    ]
    assert run_cli(arguments) == 2
    one_error_line(capsys, "were computed from other weights")
    assert_no_output(out)
    compressed = tmp_path / "compressed"
    arguments = [
        "compress",
        other_options,
        other_weights,
        "--method",
        "asvd",
        "--rank",
        "2",
        "--statistics",
        str(first / "statistics.npz"),
        "-o",
        str(compressed),
    ]
    assert run_cli(arguments) == 2
    one_error_line(capsys, "were computed from other weights")
    assert_no_output(compressed)


def test_compress_calibrates_asvd_on_text(bilm, tmp_path: Path, capsys) -> None:
    options, weights, text = bilm
    out = tmp_path / "out"
    assert (
        run_cli(
            [
                "compress",
                options,
                weights,
                "--method",
                "asvd",
                "--rank",
                "2",
                "--text",
                text,
                "--calibration-sentences",
                "2",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    assert "LSTM W_i + W_h parameters" in capsys.readouterr().out
    assert (
        ElmoWeights.load(str(out / "options.json"), str(out / "weights.hdf5")).matrix(0, 0, "input").method
        == "asvd"
    )
    assert run_cli(["compress", options, weights, "--rank", "2", "--text", text, "-o", str(tmp_path / "svd")]) == 2
    one_error_line(capsys, "--text is calibration text for methods that need statistics")


def test_shrink_distills_and_records_the_stage(bilm, tmp_path: Path, capsys) -> None:
    options, weights, text = bilm
    out = tmp_path / "out"
    arguments = shrink_arguments(options, weights, text, "3")
    assert run_cli(arguments + ["--distill-steps", "2", "--reconstruct-steps", "0", "-o", str(out)]) == 0
    report = json.loads((out / "shrink_report.json").read_text())
    assert [stage["stage"] for stage in report["stages"]][-2:] == ["factorize", "distill"]
    distilled = ElmoWeights.load(str(out / "options.json"), str(out / "weights.hdf5"))
    assert distilled.metadata["distill"]["steps"] == 2 and distilled.metadata["distill"]["train"] == "all"
    undistilled = tmp_path / "undistilled"
    assert run_cli(arguments + ["--reconstruct-steps", "0", "-o", str(undistilled)]) == 0
    before = ElmoWeights.load(str(undistilled / "options.json"), str(undistilled / "weights.hdf5"))
    assert before.matrix(0, 0, "input").rank == distilled.matrix(0, 0, "input").rank  # same allocation
    assert not (before.matrix(0, 0, "input").to_dense() == distilled.matrix(0, 0, "input").to_dense()).all()


def test_sweep_needs_statistics_for_asvd() -> None:
    from elmo_compress.downstream.sweep import SweepRequest, planned_settings
    from elmo_compress.errors import SweepError

    request = SweepRequest("model.tar.gz", "test.jsonl", ["svd", "asvd"], ["both"], [2])
    with pytest.raises(SweepError, match="method 'asvd' needs calibration statistics of the archive's ELMo"):
        planned_settings(request, (16, 4))
    with_statistics = SweepRequest("model.tar.gz", "test.jsonl", ["svd", "asvd"], ["both"], [2], statistics="s.npz")
    assert planned_settings(with_statistics, (16, 4)) == [("svd", "both", 2), ("asvd", "both", 2)]
