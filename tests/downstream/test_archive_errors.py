"""
Bad input to `compress-elmo archive` / `sweep`: one error line, exit status 2, no output file.
"""

from pathlib import Path

import pytest

from elmo_compress.downstream.archive import compressed_config
from elmo_compress.errors import ElmoCompressError

from tests.helpers import assert_no_output, one_error_line, run_cli, train_sst_archive

OPTIONS = {"lstm": {"projection_dim": 8}}
LAYOUT = {"char_embed_rows": 261, "matrices": []}


def _one_error_line(capsys) -> str:
    return one_error_line(capsys)


@pytest.fixture(scope="module")
def archive_without_elmo(tmp_path_factory) -> Path:
    return train_sst_archive(tmp_path_factory.mktemp("no_elmo"), "(3 (3 Good) (3 film))\n(1 (1 Bad) (1 film))\n")


def test_archive_without_elmo(archive_without_elmo: Path, tmp_path: Path, capsys):
    output = tmp_path / "out"
    assert run_cli(["archive", str(archive_without_elmo), "-o", str(output), "--rank", "4"]) == 2
    assert "no ELMo" in _one_error_line(capsys)
    assert_no_output(output)


def test_missing_archive(tmp_path: Path, capsys):
    output = tmp_path / "out"
    assert run_cli(["archive", str(tmp_path / "nope.tar.gz"), "-o", str(output), "--rank", "4"]) == 2
    assert "archive not found" in _one_error_line(capsys)
    assert_no_output(output)


def test_corrupt_archive(tmp_path: Path, capsys):
    corrupt = tmp_path / "model.tar.gz"
    corrupt.write_bytes(b"not a tar file")
    assert run_cli(["archive", str(corrupt), "-o", str(tmp_path / "out"), "--rank", "4"]) == 2
    assert "cannot load archive" in _one_error_line(capsys)
    assert_no_output(tmp_path / "out")


def test_archive_into_the_folder_that_holds_it_is_refused(tmp_path: Path, capsys):
    archive = tmp_path / "model.tar.gz"
    archive.write_bytes(b"an archive")
    assert run_cli(["archive", str(archive), "-o", str(tmp_path), "--rank", "4"]) == 2
    assert "is the input" in _one_error_line(capsys)
    assert run_cli(["archive", str(archive), "-o", str(tmp_path.parent), "--rank", "4"]) == 2
    assert "holds the input" in _one_error_line(capsys)
    assert archive.read_bytes() == b"an archive"


def test_empty_rank_list_is_a_usage_error(tmp_path: Path, capsys):
    arguments = ["sweep", str(tmp_path / "model.tar.gz"), str(tmp_path / "dev.txt"), "-o", str(tmp_path / "out")]
    assert run_cli(arguments + ["--ranks"]) == 2
    assert "--ranks: expected at least one argument" in _one_error_line(capsys)
    assert not (tmp_path / "out").exists()


def test_config_rewrite_covers_token_embedders_and_bcn():
    embedder = {"type": "elmo_token_embedder", "options_file": "o.json", "weight_file": "w.hdf5"}
    config = {"model": {"type": "esim", "text_field_embedder": {"token_embedders": {"elmo": embedder}}}}
    rewritten = compressed_config(config, OPTIONS, LAYOUT)
    block = rewritten["model"]["text_field_embedder"]["token_embedders"]["elmo"]
    assert block == {"type": "compressed_elmo", "options": OPTIONS, "layout": LAYOUT}
    assert config["model"]["text_field_embedder"]["token_embedders"]["elmo"]["type"] == "elmo_token_embedder"

    bcn = {"model": {"type": "bcn", "elmo": {"options_file": "o.json", "weight_file": "w.hdf5", "dropout": 0.5}}}
    rewritten = compressed_config(bcn, OPTIONS, LAYOUT)
    assert rewritten["model"]["type"] == "bcn_compressed_elmo"
    assert rewritten["model"]["elmo"] == {"options": OPTIONS, "layout": LAYOUT, "dropout": 0.5}

    with pytest.raises(ElmoCompressError, match="no ELMo block"):
        compressed_config({"model": {"type": "basic_classifier"}}, OPTIONS, LAYOUT)
