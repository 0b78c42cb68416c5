"""
`compress-elmo merge`: shard files of one `embed` run join into the file the run writes without
--shard, byte for byte; files of different runs, overlapping and missing lines are refused.
"""

from pathlib import Path
from typing import List

import pytest

from tests.embed.helpers import LINES, embed_arguments, write_text
from tests.helpers import assert_no_output, one_error_line, run_cli


def _embed(demo_bilm, input_file: str, output: Path, *extra: str) -> Path:
    assert run_cli(embed_arguments(demo_bilm, input_file, output, *extra)) == 0
    return output


def _shards(demo_bilm, input_file: str, folder: Path, count: int, *extra: str) -> List[Path]:
    return [
        _embed(demo_bilm, input_file, folder / f"shard{index}.hdf5", "--shard", f"{index}/{count}", *extra)
        for index in range(1, count + 1)
    ]


@pytest.mark.parametrize(
    "count,extra",
    [
        (2, ["--batch-size", "2"]),  # the character cache holds every token of the input
        (3, ["--batch-size", "2", "--layers", "average", "--char-cache", "5"]),  # most tokens miss the cache
        (2, ["--batch-size", "3", "--layers", "top", "--char-cache", "0"]),
        (4, ["--batch-size", "4"]),  # 3 batches: the 4th shard is empty
    ],
)
def test_merged_shards_are_the_one_run_file(demo_bilm, tmp_path: Path, capsys, count: int, extra: List[str]):
    input_file = write_text(tmp_path)
    whole = _embed(demo_bilm, input_file, tmp_path / "whole.hdf5", *extra)
    shards = _shards(demo_bilm, input_file, tmp_path, count, *extra)
    merged = tmp_path / "merged.hdf5"
    capsys.readouterr()  # the embed runs' output
    assert run_cli(["merge", *map(str, reversed(shards)), "-o", str(merged)]) == 0
    assert merged.read_bytes() == whole.read_bytes()
    assert f"{len(LINES)} lines" in capsys.readouterr().out


def test_overlapping_shards(demo_bilm, tmp_path: Path, capsys):
    input_file = write_text(tmp_path)
    first, second = _shards(demo_bilm, input_file, tmp_path, 2)
    merged = tmp_path / "merged.hdf5"
    capsys.readouterr()  # the embed runs' output
    assert run_cli(["merge", str(first), str(second), str(first), "-o", str(merged)]) == 2
    one_error_line(capsys, "the shards overlap")
    assert_no_output(merged)


def test_missing_shard(demo_bilm, tmp_path: Path, capsys):
    input_file = write_text(tmp_path)
    first, _, third = _shards(demo_bilm, input_file, tmp_path, 3, "--batch-size", "2")
    merged = tmp_path / "merged.hdf5"
    capsys.readouterr()  # the embed runs' output
    assert run_cli(["merge", str(first), str(third), "-o", str(merged)]) == 2
    one_error_line(capsys, "lines are in none of the files")
    assert_no_output(merged)


@pytest.mark.parametrize(
    "other,expected",
    [
        (["--layers", "top"], "different --layers (top vs all)"),
        (["--batch-size", "3"], "different --batch-size"),
        (["--char-cache", "0"], "different --char-cache (0 vs 50000)"),
    ],
)
def test_shards_of_different_settings(demo_bilm, tmp_path: Path, capsys, other: List[str], expected: str):
    input_file = write_text(tmp_path)
    first = _embed(demo_bilm, input_file, tmp_path / "first.hdf5", "--shard", "1/2")
    second = _embed(demo_bilm, input_file, tmp_path / "second.hdf5", "--shard", "2/2", *other)
    merged = tmp_path / "merged.hdf5"
    capsys.readouterr()  # the embed runs' output
    assert run_cli(["merge", str(first), str(second), "-o", str(merged)]) == 2
    one_error_line(capsys, expected)
    assert_no_output(merged)


def test_shards_of_different_inputs(demo_bilm, tmp_path: Path, capsys):
    first = _embed(demo_bilm, write_text(tmp_path), tmp_path / "first.hdf5", "--shard", "1/2")
    other_input = write_text(tmp_path, [line.upper() for line in LINES], name="other.txt")
    second = _embed(demo_bilm, other_input, tmp_path / "second.hdf5", "--shard", "2/2")
    merged = tmp_path / "merged.hdf5"
    capsys.readouterr()  # the embed runs' output
    assert run_cli(["merge", str(first), str(second), "-o", str(merged)]) == 2
    one_error_line(capsys, "are not shards of one run: different input text")
    assert_no_output(merged)


def test_a_file_not_written_by_embed(demo_bilm, tmp_path: Path, capsys):
    first = _embed(demo_bilm, write_text(tmp_path), tmp_path / "first.hdf5", "--shard", "1/2")
    merged = tmp_path / "merged.hdf5"
    capsys.readouterr()  # the embed runs' output
    assert run_cli(["merge", str(first), demo_bilm[1], "-o", str(merged)]) == 2
    one_error_line(capsys, "was not written by compress-elmo embed")
    (tmp_path / "text.hdf5").write_text("not hdf5")
    assert run_cli(["merge", str(first), str(tmp_path / "text.hdf5"), "-o", str(merged)]) == 2
    one_error_line(capsys, "is not a readable hdf5 file")
    assert_no_output(merged)


def test_existing_output_and_output_that_is_a_shard(demo_bilm, tmp_path: Path, capsys):
    first, second = _shards(demo_bilm, write_text(tmp_path), tmp_path, 2)
    merged = tmp_path / "merged.hdf5"
    merged.write_bytes(b"keep me")
    capsys.readouterr()  # the embed runs' output
    assert run_cli(["merge", str(first), str(second), "-o", str(merged)]) == 2
    one_error_line(capsys, "exists; pass --force")
    assert merged.read_bytes() == b"keep me"
    assert run_cli(["merge", str(first), str(second), "-o", str(first), "--force"]) == 2
    one_error_line(capsys, "is the input")
