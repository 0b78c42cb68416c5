"""
`--task-archive` of `distill` and `shrink`: the text is a trained task model's own training text, read
with the archive's dataset reader; bad archives are one error line and write nothing.
"""

import io
import json
import tarfile
from pathlib import Path
from typing import Any, Dict, List

import pytest

from elmo_compress.data.corpus import text_sha256
from elmo_compress.downstream.task_text import read_text, task_sentences
from elmo_compress.errors import ElmoCompressError
from elmo_compress.factorize import CompressionSpec
from elmo_compress.weights import ElmoWeights
from elmo_compress.weights.compress import compress_files

from tests.helpers import (
    SENTENCES,
    assert_no_output,
    one_error_line,
    run_cli,
    train_sst_archive,
    write_random_bilm,
)

READER_TYPE = "sst_tokens"  # allennlp-models: SST trees, one sentence per line
TASK_SENTENCES: List[List[str]] = [list(tokens) for tokens in SENTENCES[:6]] + [["good", "film"]]


def _reader_config(**changes: Any) -> Dict[str, Any]:
    return {"dataset_reader": {"type": READER_TYPE}, **changes}


def _tree(tokens: List[str]) -> str:
    return "(2 " + " ".join(f"(2 {token})" for token in tokens) + ")"


@pytest.fixture(scope="module")
def task_archive(tmp_path_factory) -> Path:
    trees = "".join(_tree(tokens) + "\n" for tokens in TASK_SENTENCES)
    return train_sst_archive(tmp_path_factory.mktemp("task"), trees)


def _config_archive(path: Path, config: Dict[str, Any], name: str = "config.json") -> Path:
    """A model.tar.gz holding only `config` as its config.json (enough for the text; no model)."""
    data = json.dumps(config).encode("utf-8")
    with tarfile.open(path, "w:gz") as archive:
        member = tarfile.TarInfo(name)
        member.size = len(data)
        archive.addfile(member, io.BytesIO(data))
    return path


def test_task_sentences_are_the_training_text_read_by_the_archives_reader(task_archive: Path, tmp_path: Path):
    assert task_sentences(str(task_archive)) == TASK_SENTENCES
    assert read_text(task_archive=str(task_archive)) == TASK_SENTENCES
    text = tmp_path / "text.txt"
    text.write_text("one two\n\nthree\n", encoding="utf-8")
    assert read_text(str(text)) == [["one", "two"], ["three"]]
    with pytest.raises(ElmoCompressError, match="not both"):
        read_text(str(text), str(task_archive))


def test_bad_archives_are_one_error_each(tmp_path: Path):
    (tmp_path / "plain.txt").write_text("not an archive\n", encoding="utf-8")
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    cases = [
        (tmp_path / "missing.tar.gz", "archive not found"),
        (tmp_path / "plain.txt", "cannot read the config of archive"),
        (_config_archive(tmp_path / "o.tar.gz", _reader_config(), name="meta.json"), "cannot read the config of"),
        (_config_archive(tmp_path / "no_path.tar.gz", _reader_config()), "has no train_data_path"),
        (
            _config_archive(tmp_path / "gone.tar.gz", _reader_config(train_data_path=str(tmp_path / "gone.txt"))),
            "cannot read the training data",
        ),
        (
            _config_archive(tmp_path / "e.tar.gz", _reader_config(train_data_path=str(tmp_path / "empty.txt"))),
            "has no text field of 1 to 100 tokens",
        ),
    ]
    for archive, message in cases:
        with pytest.raises(ElmoCompressError, match=message) as raised:
            task_sentences(str(archive))
        assert "\n" not in str(raised.value)


def _compressed(folder: Path) -> List[str]:
    options_file, weight_file = write_random_bilm(folder / "bilm")
    spec = CompressionSpec.from_dict({"method": "svd", "target": "both", "rank": 2})
    compress_files(options_file, weight_file, spec, str(folder / "compressed"))
    return [options_file, weight_file, str(folder / "compressed" / "weights.hdf5")]


def test_distill_and_shrink_train_on_the_task_text(task_archive: Path, tmp_path: Path, capsys):
    files = _compressed(tmp_path)
    task = ["--task-archive", str(task_archive)]
    arguments = ["distill", *files, "-o", str(tmp_path / "distilled"), *task, "--steps", "2", "--batch-size", "4"]
    assert run_cli(arguments) == 0
    record = ElmoWeights.load(files[0], str(tmp_path / "distilled" / "weights.hdf5")).metadata["distill"]
    assert record["sentences"] == len(TASK_SENTENCES) and record["text_sha256"] == text_sha256(TASK_SENTENCES)
    shrink = ["shrink", *files[:2], "--budget", "0.5", "-o", str(tmp_path / "shrunk"), *task]
    shrink += ["--reconstruct-steps", "0", "--distill-steps", "2"]
    assert run_cli(shrink) == 0
    record = ElmoWeights.load(files[0], str(tmp_path / "shrunk" / "weights.hdf5")).metadata["distill"]
    assert record["sentences"] == len(TASK_SENTENCES) and record["text_sha256"] == text_sha256(TASK_SENTENCES)
    capsys.readouterr()


def test_text_and_task_archive_together_are_refused(task_archive: Path, tmp_path: Path, capsys):
    files = _compressed(tmp_path)
    text = tmp_path / "text.txt"
    text.write_text("one two\n", encoding="utf-8")
    for arguments, output in (
        (["distill", *files, "-o", str(tmp_path / "d")], tmp_path / "d"),
        (["shrink", *files[:2], "--budget", "0.5", "-o", str(tmp_path / "s")], tmp_path / "s"),
    ):
        capsys.readouterr()
        assert run_cli(arguments + ["--text", str(text), "--task-archive", str(task_archive)]) == 2
        one_error_line(capsys, "give the text as --text or as --task-archive, not both")
        assert_no_output(output)
        assert run_cli(arguments + ["--task-archive", str(tmp_path / "missing.tar.gz")]) == 2
        one_error_line(capsys, "archive not found")
        assert_no_output(output)
