"""
The input of `compress-elmo embed`: one sentence per line, tokens separated by whitespace, as allennlp
0.9's `allennlp elmo` reads it (a line is stripped, then split on whitespace; the line's index names
its vectors).

Blank lines are refused, as allennlp 0.9 refused them: a blank line has no tokens to embed, and
skipping it would shift every later index away from its line number.
"""

import hashlib
import os
from dataclasses import dataclass
from typing import List

from elmo_compress.errors import EmbedError

# Blank lines named in the error message.
BLANK_LINES_SHOWN = 5


@dataclass(frozen=True)
class InputText:
    """
    # Parameters

    path : `str`
        The file read.
    lines : `List[str]`
        Each line, stripped: the text that `sentence_to_index` maps to the line's index.
    tokens : `List[List[str]]`
        Each line split on whitespace (never empty).
    sha256 : `str`
        SHA-256 of the file's bytes, recorded in the vectors file.
    """

    path: str
    lines: List[str]
    tokens: List[List[str]]
    sha256: str

    @property
    def lengths(self) -> List[int]:
        return [len(tokens) for tokens in self.tokens]


def read_input_text(path: str) -> InputText:
    """
    Read `path`. A missing, empty, binary or non-UTF-8 file, or one with a blank line, raises
    `EmbedError` naming the problem. Lines end at `\\n`, `\\r\\n` or `\\r` (Python's universal
    newlines, as allennlp 0.9 read them); a UTF-8 byte order mark is dropped.
    """
    if not os.path.isfile(path):
        raise EmbedError(f"input file not found: {path}")
    with open(path, "rb") as input_file:
        data = input_file.read()
    if b"\0" in data:
        raise EmbedError(f"input file {path} is binary (it contains NUL bytes), not one sentence per line")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise EmbedError(f"input file {path} is not UTF-8 text ({error.reason} at byte {error.start})") from None
    if not text.strip():
        raise EmbedError(f"input file {path} has no sentence (it is empty or only whitespace)")
    lines = [line.strip() for line in _split_lines(text)]
    blank = [number for number, line in enumerate(lines, start=1) if not line]
    if blank:
        shown = ", ".join(str(number) for number in blank[:BLANK_LINES_SHOWN]) + (", ..." if len(blank) > BLANK_LINES_SHOWN else "")
        raise EmbedError(
            f"input file {path} has {len(blank)} blank line(s) (line {shown}): each line is one sentence and its "
            "index names its vectors, so remove blank lines"
        )
    return InputText(path, lines, [line.split() for line in lines], hashlib.sha256(data).hexdigest())


def _split_lines(text: str) -> List[str]:
    """Lines as a text-mode file yields them (universal newlines), without their line ends."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return lines[:-1] if lines[-1] == "" else lines
