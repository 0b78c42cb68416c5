import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

from elmo_compress.commands import main
from elmo_compress.weights import ElmoWeights

from tests.helpers import assert_no_output, one_error_line, run_cli


def _compress(random_bilm, output_dir: Path, *extra: str) -> int:
    options_file, weight_file = random_bilm
    return main(["compress", options_file, weight_file, "-o", str(output_dir), *extra])


def test_compress_writes_weights_options_and_summary(random_bilm, tmp_path: Path, capsys):
    assert _compress(random_bilm, tmp_path / "out", "--method", "svd", "--rank", "3", "--target", "recurrent") == 0
    printed = capsys.readouterr().out
    assert "layer 1 backward recurrent" in printed and "LSTM W_i + W_h parameters" in printed
    assert "96x8" in printed  # 4 * cell 24 x projection 8
    weights = ElmoWeights.load(str(tmp_path / "out" / "options.json"), str(tmp_path / "out" / "weights.hdf5"))
    assert weights.matrix(0, 0, "recurrent").rank == 3
    assert weights.matrix(0, 0, "input").method == "dense"
    assert json.loads((tmp_path / "out" / "options.json").read_text()) == json.loads(
        Path(random_bilm[0]).read_text()
    )


def test_energy_and_compression_json(random_bilm, tmp_path: Path):
    assert _compress(random_bilm, tmp_path / "a", "--method", "prune", "--energy", "0.9") == 0
    block = {"method": "semi_nmf", "target": "both", "rank": 4, "layers": {"1": {"recurrent": {"rank": 2}}}}
    assert _compress(random_bilm, tmp_path / "b", "--compression", json.dumps(block)) == 0
    weights = ElmoWeights.load(random_bilm[0], str(tmp_path / "b" / "weights.hdf5"))
    assert weights.matrix(1, 1, "recurrent").rank == 2 and weights.matrix(1, 1, "input").rank == 4


def test_same_seed_same_bytes(random_bilm, tmp_path: Path):
    digests = []
    for name in ("first", "second"):
        assert _compress(random_bilm, tmp_path / name, "--method", "semi_nmf", "--rank", "2", "--seed", "3") == 0
        digests.append(hashlib.sha256((tmp_path / name / "weights.hdf5").read_bytes()).hexdigest())
    assert digests[0] == digests[1]


def _assert_one_line_error(capsys, expected: str) -> None:
    one_error_line(capsys, expected)


def _assert_no_output(output_dir: Path) -> None:
    assert_no_output(output_dir)


@pytest.mark.parametrize(
    "arguments,expected",
    [
        (["--rank", "0"], "--rank: must be an integer >= 1, got 0"),
        (["--rank", "-3"], "--rank: must be an integer >= 1, got -3"),
        (["--rank", "2.5"], "--rank: expected an integer, got '2.5'"),
        (["--rank", "9"], "min(m, n)"),
        (["--energy", "1.5"], "--energy: must be a number in (0, 1], got 1.5"),
        (["--energy", "nan"], "--energy: expected a finite number"),
        (["--fraction", "0"], "--fraction: must be a number in (0, 1], got 0"),
        (["--rank", "2", "--max-iterations", "0"], "--max-iterations: must be an integer >= 1"),
        (["--rank", "2", "--tolerance", "-1"], "--tolerance: must be a number >= 0"),
        (["--rank", "2", "--seed", "-1"], "--seed: must be an integer >= 0"),
        (["--method", "tucker", "--rank", "2"], "tucker"),
        (["--target", "gates", "--rank", "2"], "gates"),
        (["--compression", '{"method": "svd", "target": "both"}'], "rank"),
    ],
)
def test_bad_arguments(random_bilm, tmp_path: Path, capsys, arguments: List[str], expected: str):
    output_dir = tmp_path / "out"
    options_file, weight_file = random_bilm
    assert run_cli(["compress", options_file, weight_file, "-o", str(output_dir), *arguments]) == 2
    _assert_one_line_error(capsys, expected)
    _assert_no_output(output_dir)


def test_missing_weights(random_bilm, tmp_path: Path, capsys):
    assert (
        main(["compress", random_bilm[0], str(tmp_path / "none.hdf5"), "-o", str(tmp_path / "out"), "--rank", "2"])
        == 2
    )
    _assert_one_line_error(capsys, "weights file not found")
    _assert_no_output(tmp_path / "out")


def test_corrupt_weights(random_bilm, tmp_path: Path, capsys):
    corrupt = tmp_path / "corrupt.hdf5"
    corrupt.write_bytes(Path(random_bilm[1]).read_bytes()[:3000])
    assert main(["compress", random_bilm[0], str(corrupt), "-o", str(tmp_path / "out"), "--rank", "2"]) == 2
    _assert_one_line_error(capsys, "not a readable hdf5 file")
    _assert_no_output(tmp_path / "out")


def test_options_weights_mismatch(random_bilm, tmp_path: Path, capsys):
    options = json.loads(Path(random_bilm[0]).read_text())
    options["lstm"]["projection_dim"] = 16
    wrong = tmp_path / "options.json"
    wrong.write_text(json.dumps(options))
    assert main(["compress", str(wrong), random_bilm[1], "-o", str(tmp_path / "out"), "--rank", "2"]) == 2
    _assert_one_line_error(capsys, "options/weights mismatch")
    _assert_no_output(tmp_path / "out")


def test_console_script_exit_code(random_bilm, tmp_path: Path):
    completed = subprocess.run(
        [
            str(Path(sys.executable).parent / "compress-elmo"),
            "compress",
            *random_bilm,
            "-o",
            str(tmp_path / "out"),
            "--rank",
            "100",
        ],
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 2
    assert completed.stderr.strip().count("\n") == 0 and "rank" in completed.stderr
