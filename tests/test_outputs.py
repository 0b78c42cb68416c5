"""
The guarded writer (`elmo_compress/outputs.py`) and what it guarantees to every verb: an output is never
an input, a multi-file result appears whole or not at all, existing outputs are kept unless `--force`,
and OS errors (no space, read-only, permissions, a file in the way) are one line.
"""

import errno
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from elmo_compress.errors import ElmoCompressError
from elmo_compress.outputs import OutputError, OutputFile, OutputFolder, atomic_write_bytes, check_not_input

from tests.helpers import SENTENCES, assert_no_output, one_error_line, run_cli, tiny_config, write_random_bilm


# ------------------------------------------------------------------ the writer itself


def test_a_folder_appears_only_when_complete(tmp_path: Path):
    target = tmp_path / "out"
    with OutputFolder(target, names=["a.txt", "sub/b.txt"]) as output:
        Path(output.path("a.txt")).write_text("a")
        assert not target.exists()
        Path(output.path("sub/b.txt")).write_text("b")
    assert (target / "a.txt").read_text() == "a" and (target / "sub" / "b.txt").read_text() == "b"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging folder left


def test_an_error_leaves_nothing(tmp_path: Path):
    target = tmp_path / "out"
    with pytest.raises(RuntimeError):
        with OutputFolder(target, names=["a.txt", "b.txt"]) as output:
            Path(output.path("a.txt")).write_text("a")
            raise RuntimeError("the second file failed")
    assert_no_output(target)
    assert list(tmp_path.iterdir()) == []


def test_an_existing_folder_gets_the_set_and_keeps_other_files(tmp_path: Path):
    (tmp_path / "keep.txt").write_text("mine")
    with OutputFolder(tmp_path, names=["a.txt"]) as output:
        Path(output.path("a.txt")).write_text("a")
    assert (tmp_path / "keep.txt").read_text() == "mine" and (tmp_path / "a.txt").read_text() == "a"


@pytest.mark.parametrize("names", [["a.txt"], None])
def test_existing_outputs_need_force(tmp_path: Path, names):
    (tmp_path / "a.txt").write_text("old")
    with pytest.raises(OutputError, match="exists; pass --force"):
        OutputFolder(tmp_path, names=names)
    with OutputFolder(tmp_path, names=names, force=True) as output:
        Path(output.path("a.txt")).write_text("new")
    assert (tmp_path / "a.txt").read_text() == "new"


def test_the_output_may_not_be_or_hold_an_input(tmp_path: Path):
    source = tmp_path / "in" / "weights.hdf5"
    source.parent.mkdir()
    source.write_bytes(b"precious")
    link = tmp_path / "link.hdf5"
    link.symlink_to(source)
    hard = tmp_path / "hard.hdf5"
    os.link(source, hard)
    for output, inputs in (
        (OutputFile, dict(file=source, inputs=[source])),
        (OutputFile, dict(file=hard, inputs=[link], force=True)),  # the same file under two names
        (OutputFolder, dict(folder=tmp_path / "in", inputs=[source])),
        (OutputFolder, dict(folder=tmp_path, inputs=[link])),
    ):
        with pytest.raises(OutputError, match="input"):
            output(**inputs)
    assert source.read_bytes() == b"precious"
    check_not_input([tmp_path / "other"], [source], folder=tmp_path / "elsewhere")  # no complaint


@pytest.mark.parametrize("below, expected", [("", "is an existing file"), ("sub", "is a file, not a folder")])
def test_a_file_in_the_way_is_one_error(tmp_path: Path, below: str, expected: str):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match=expected):
        OutputFolder(tmp_path / "file" / below if below else tmp_path / "file")


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EDQUOT])
def test_os_errors_while_writing_become_one_output_error(tmp_path: Path, monkeypatch, code: int):
    target = tmp_path / "out"
    output = OutputFolder(target, names=["a.txt"])
    with pytest.raises(OutputError, match=f"cannot write {target}: {os.strerror(code)}"):
        with output:
            path = output.path("a.txt")
            raise OSError(code, os.strerror(code), path if code in (errno.EACCES, errno.EROFS) else None)
    assert_no_output(target)


def test_a_failing_move_into_place_leaves_nothing(tmp_path: Path, monkeypatch):
    target = tmp_path / "out"

    def refuse(source, destination):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), destination)

    with pytest.raises(OutputError, match="Read-only file system"):
        with OutputFolder(target, names=["a.txt"]) as output:
            Path(output.path("a.txt")).write_text("a")
            monkeypatch.setattr(os, "rename", refuse)
    assert_no_output(target)


def test_an_unwritable_place_is_refused_before_any_work(tmp_path: Path, monkeypatch):
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    with pytest.raises(OutputError, match="Permission denied"):
        OutputFolder(tmp_path / "out")


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path: Path, monkeypatch):
    path = tmp_path / "checkpoint.pt"
    path.write_bytes(b"old")
    monkeypatch.setattr(os, "replace", lambda *args: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device")))
    with pytest.raises(OSError, match="No space left on device: .*checkpoint.pt"):
        atomic_write_bytes(path, b"new")
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]


# ------------------------------------------------------------------ every verb, through the command line


@pytest.fixture
def bilm_folder(tmp_path: Path) -> Path:
    write_random_bilm(tmp_path / "elmo")
    return tmp_path / "elmo"


def test_no_verb_writes_over_its_input(bilm_folder: Path, tmp_path: Path, capsys):
    options, weights = str(bilm_folder / "options.json"), str(bilm_folder / "weights.hdf5")
    before = {path.name: path.read_bytes() for path in bilm_folder.iterdir()}
    corpus = tmp_path / "k"
    corpus.mkdir()
    (corpus / "train.txt").write_text("\n".join(" ".join(sentence) for sentence in SENTENCES) + "\n")
    for arguments in (
        ["compress", options, weights, "-o", str(bilm_folder), "--rank", "2", "--force"],
        ["analyze", options, weights, "-o", str(bilm_folder), "--force"],
        ["corpus", "--input", str(corpus / "train.txt"), "-o", str(corpus), "--force"],
        ["finetune", str(bilm_folder), "--weights", weights, "-o", str(bilm_folder), "--steps", "1", "--force"],
        ["sweep", weights, options, "-o", str(bilm_folder), "--ranks", "2"],
    ):
        assert run_cli(arguments) == 2, arguments
        one_error_line(capsys, "input")
    assert {path.name: path.read_bytes() for path in bilm_folder.iterdir()} == before
    assert (corpus / "train.txt").read_text().startswith("the cat")


def test_a_full_disk_is_one_line_and_no_partial_output(bilm_folder: Path, tmp_path: Path):
    """A real failing write: the file size limit makes writes fail with EFBIG, as a full disk would."""
    output = tmp_path / "out"
    script = Path(sys.executable).parent / "compress-elmo"
    arguments = [str(script), "compress", str(bilm_folder / "options.json"), str(bilm_folder / "weights.hdf5")]

    def limit_file_size():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))  # below the size of the weights

    completed = subprocess.run(arguments + ["-o", str(output), "--rank", "2"], capture_output=True, text=True, preexec_fn=limit_file_size)
    assert completed.returncode == 2, completed.stderr
    error = completed.stderr.strip().splitlines()
    assert len([line for line in error if "error" in line]) == 1 and f"cannot write {output}: File too large" in error[-1]
    assert_no_output(output)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_pretrain_checks_everything_before_writing(tmp_path: Path, capsys):
    for arguments, expected in (
        (["--vocabulary-size", "0"], "--vocabulary-size: must be an integer >= 1"),
        (["--learning-rate", "-1"], "--learning-rate: must be a number > 0"),
        (["--batch-size", "two"], "--batch-size: expected an integer"),
        (["--steps", "-5"], "--steps: must be an integer >= 0"),
    ):
        assert run_cli(["pretrain", "-o", str(tmp_path / "out"), *arguments]) == 2
        one_error_line(capsys, expected)
        assert_no_output(tmp_path / "out")


def test_pretrain_that_diverges_is_one_line_and_writes_no_bundle(tmp_path: Path):
    from elmo_compress.lm import pretrain

    with pytest.raises(ElmoCompressError, match="training diverged at step"):
        pretrain(SENTENCES, str(tmp_path / "out"), tiny_config(steps=30, learning_rate=1e30, checkpoint_every=100))
    assert not (tmp_path / "out" / "weights.hdf5").exists()


def test_a_resume_checkpoint_from_other_settings_or_truncated_is_one_line(tmp_path: Path):
    from elmo_compress.lm import pretrain

    pretrain(SENTENCES, str(tmp_path / "out"), tiny_config(steps=2, checkpoint_every=1))
    with pytest.raises(ElmoCompressError, match=r"another training \(cell_dim 16 -> 32\)"):
        pretrain(SENTENCES, str(tmp_path / "out"), tiny_config(steps=4, cell_dim=32), resume=True)
    checkpoint = tmp_path / "out" / "checkpoint.pt"
    checkpoint.write_bytes(checkpoint.read_bytes()[:100])
    with pytest.raises(ElmoCompressError, match="cannot be read"):
        pretrain(SENTENCES, str(tmp_path / "out"), tiny_config(steps=4), resume=True)
