"""
The one place that writes files, so that no run loses a user's file or leaves a partial result:

- `OutputFolder`: a multi-file result (weights + options, a report with its figures, ...). Checked
  before any work (not an existing file, does not hold an input, existing outputs only with
  `force`, a place to write exists), written into a temporary folder beside the target, and moved into
  place only when complete, as a set. On any error the temporary folder is removed.
- `OutputFile`: the same for a result that is one file.
- `write_bytes` / `write_text`: every writer in the package produces bytes in memory (hdf5 images,
  `torch.save`, PNGs, text) and hands them here, so a full disk is an `OSError` from `write`, never a
  crash inside a C library.
- `atomic_write_bytes`: one file replaced atomically in place (checkpoints, a resumable CSV).

OS errors (no space, read-only file system, permissions, a file where a folder should be) become one
`OutputError` line naming the path the user gave.
"""

import errno
import os
import shutil
import tempfile
from typing import Iterable, List, Optional, Sequence, Union

from elmo_compress.errors import ElmoCompressError

PathLike = Union[str, "os.PathLike[str]"]


class OutputError(ElmoCompressError):
    """An output that cannot or must not be written."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def describe_os_error(error: OSError) -> str:
    """`strerror` of an OS error in words (e.g. "No space left on device")."""
    return error.strerror or os.strerror(error.errno or 0) or type(error).__name__


def write_bytes(path: PathLike, data: bytes) -> None:
    """Write `data` to `path` (inside a staging folder: no atomicity needed there)."""
    with open(path, "wb") as handle:
        handle.write(data)


def write_text(path: PathLike, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: PathLike, data: bytes) -> None:
    """
    Replace `path` by `data` atomically (a temporary file beside it, then a rename). An OS error names
    `path`; inside an `OutputFolder` it becomes that folder's one-line error, elsewhere the command
    line's.
    """
    path = os.fspath(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=_parent(path))
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600 files; outputs get the usual mode
        os.replace(temporary, path)
    except BaseException as error:
        if os.path.exists(temporary):
            os.unlink(temporary)
        if isinstance(error, OSError):  # about `path`, not the temporary file beside it
            raise OSError(error.errno, describe_os_error(error), path) from None
        raise


def _parent(path: str) -> str:
    return os.path.dirname(os.path.abspath(path)) or "."


def _real(path: PathLike) -> str:
    return os.path.realpath(os.path.abspath(os.fspath(path)))


def _is_within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _existing_ancestor(path: str) -> str:
    folder = _parent(path)
    while not os.path.exists(folder):
        folder = os.path.dirname(folder)
    return folder


def check_not_input(outputs: Iterable[PathLike], inputs: Iterable[PathLike], folder: Optional[PathLike] = None) -> None:
    """
    Refuse an output path that is an input (same file, through links too), or an output `folder`
    that holds an input.
    """
    real_inputs = [(os.fspath(path), _real(path)) for path in inputs if path is not None]
    for output in outputs:
        real_output = _real(output)
        for given, real_input in real_inputs:
            same = real_output == real_input or (
                os.path.exists(output) and os.path.exists(given) and os.path.samefile(output, given)
            )
            if same:
                raise OutputError(f"the output {os.fspath(output)} is the input {given}; choose another output path")
    if folder is not None:
        real_folder = _real(folder)
        for given, real_input in real_inputs:
            if _is_within(real_input, real_folder):
                raise OutputError(
                    f"the output folder {os.fspath(folder)} holds the input {given}; choose another output folder"
                )


class _Staged:
    """A temporary folder (or file) beside the target; moved into place by `commit`."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.staging: Optional[str] = None

    def _create_staging(self) -> str:
        ancestor = _existing_ancestor(self.target)
        if not os.path.isdir(ancestor):
            raise OutputError(f"cannot write {self.target}: {ancestor} is a file, not a folder")
        try:
            return tempfile.mkdtemp(prefix=f".{os.path.basename(self.target.rstrip(os.sep)) or 'output'}.", dir=ancestor)
        except OSError as error:
            raise OutputError(f"cannot write {self.target}: {describe_os_error(error)}") from None

    def discard(self) -> None:
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging = None

    def _os_error(self, error: OSError) -> OutputError:
        return OutputError(f"cannot write {self.target}: {describe_os_error(error)}")

    def __exit__(self, kind: type, error: Optional[BaseException], traceback: object) -> bool:
        if error is None:
            try:
                self.commit()
            except OSError as failure:
                self.discard()
                raise self._os_error(failure) from None
            return False
        ours = isinstance(error, OSError) and self._about_output(error)
        self.discard()
        if ours:
            raise self._os_error(error) from None
        return False

    def _about_output(self, error: OSError) -> bool:
        """Whether an OS error came from writing the output: a path in the staging folder, or no path
        but an error about the place written to (a write that ran out of space)."""
        if error.filename:
            return self.staging is not None and _is_within(_real(error.filename), _real(self.staging))
        return error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS)

    def commit(self) -> None:
        raise NotImplementedError


class OutputFolder(_Staged):
    """
    A result of several files in `folder`, written as a set. Use as a context manager: inside, write
    each file to `path(name)`; on a clean exit every file is moved into `folder`, on an error nothing
    is.

    # Parameters

    folder : `str`
        Where the result goes; created (with missing parents) when complete.
    inputs : `Sequence[str]`, optional (default = `()`)
        Files the run reads: the folder may not hold any of them, and no output may be one.
    names : `Sequence[str]`, optional (default = `None`)
        The files the result will have (paths relative to `folder`), checked before any work: an
        existing one is refused unless `force`. `None`: any name, and then an existing non-empty
        `folder` is refused unless `force`.
    force : `bool`, optional (default = `False`)
        Replace existing outputs.
    """

    def __init__(
        self,
        folder: PathLike,
        inputs: Sequence[Optional[PathLike]] = (),
        names: Optional[Sequence[str]] = None,
        force: bool = False,
    ) -> None:
        super().__init__(os.fspath(folder))
        self.names = None if names is None else list(names)
        if os.path.exists(self.target) and not os.path.isdir(self.target):
            raise OutputError(f"the output folder {self.target} is an existing file")
        outputs = [os.path.join(self.target, name) for name in self.names or []]
        check_not_input(outputs, [path for path in inputs if path is not None], folder=self.target)
        if not force:
            self._check_no_existing(outputs)
        self.staging = self._create_staging()

    def _check_no_existing(self, outputs: List[str]) -> None:
        existing = [path for path in outputs if os.path.lexists(path)]
        if self.names is None and os.path.isdir(self.target) and os.listdir(self.target):
            existing = [self.target]
        if existing:
            raise OutputError(f"{existing[0]} exists; pass --force to replace it, or choose another output path")

    def __enter__(self) -> "OutputFolder":
        return self

    def path(self, name: str) -> str:
        """Where to write the output `name` (relative to the folder) until the set is complete."""
        if self.names is not None and name not in self.names:
            raise ValueError(f"{name} is not one of the declared outputs {self.names}")
        path = os.path.join(self.staging, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return path

    @property
    def staged_folder(self) -> str:
        """The temporary folder that becomes `folder` (to read back what was written, before the move)."""
        return self.staging

    def final_path(self, name: str) -> str:
        """Where `name` will be once the set is complete."""
        return os.path.join(self.target, name)

    def commit(self) -> None:
        os.chmod(self.staging, 0o777 & ~_umask())  # mkdtemp makes a 0700 folder
        if not os.path.exists(self.target):
            os.makedirs(_parent(self.target), exist_ok=True)
            os.rename(self.staging, self.target)
            self.staging = None
            return
        for root, folders, files in os.walk(self.staging):
            relative = os.path.relpath(root, self.staging)
            destination = os.path.normpath(os.path.join(self.target, relative))
            os.makedirs(destination, exist_ok=True)
            for name in files:
                os.replace(os.path.join(root, name), os.path.join(destination, name))
        self.discard()


class OutputFile(_Staged):
    """
    A result that is one file, written whole or not at all. Use as a context manager and write to
    `path`; on a clean exit it replaces `file`.

    # Parameters

    file : `str`
        The output file.
    inputs : `Sequence[str]`, optional (default = `()`)
        Files the run reads; the output may not be one of them.
    force : `bool`, optional (default = `False`)
        Replace an existing file.
    """

    def __init__(self, file: PathLike, inputs: Sequence[Optional[PathLike]] = (), force: bool = False) -> None:
        super().__init__(os.fspath(file))
        if os.path.isdir(self.target):
            raise OutputError(f"the output {self.target} is an existing folder; give a file name")
        check_not_input([self.target], [path for path in inputs if path is not None])
        if not force and os.path.lexists(self.target):
            raise OutputError(f"{self.target} exists; pass --force to replace it, or choose another output path")
        self.staging = self._create_staging()
        self.path = os.path.join(self.staging, os.path.basename(self.target))

    def __enter__(self) -> "OutputFile":
        return self

    def commit(self) -> None:
        os.chmod(self.path, 0o666 & ~_umask())
        os.makedirs(_parent(self.target), exist_ok=True)
        os.replace(self.path, self.target)
        self.discard()


def atomic_write_text(path: PathLike, text: str) -> None:
    """`atomic_write_bytes` of UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))
