"""
Errors that `elmo_compress` raises for bad input. Each message is one line that names the
problem, so the CLI can print it as is and exit with status 2.
"""


class ElmoCompressError(ValueError):
    """Base class of every bad-input error raised by `elmo_compress`."""


def first_line(error: BaseException) -> str:
    """The first line of `error`'s message (for one-line errors that wrap a library's), or its type's name."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


class CompressionSpecError(ElmoCompressError):
    """A compression block, method, target or rank that cannot be used."""


class ElmoWeightsError(ElmoCompressError):
    """A missing, corrupt or inconsistent ELMo `options.json` / `weights.hdf5`."""


class SweepError(ElmoCompressError):
    """A sweep that cannot run or be read: its evaluation file, metric, setting lists or CSV."""


class EmbedError(ElmoCompressError):
    """An input text, a vectors file or settings that `compress-elmo embed` / `merge` cannot use."""
