"""
Language-model corpora: one tokenized sentence per line (tokens separated by whitespace), as
bilm-tf and `compress-elmo pretrain` read them.
"""

import hashlib
import os
from dataclasses import dataclass
from typing import List, Sequence, Tuple

from elmo_compress.outputs import OutputFolder, atomic_write_text, write_text
from elmo_compress.errors import ElmoCompressError

Sentences = List[List[str]]


class CorpusError(ElmoCompressError):
    """An empty, binary or otherwise unusable corpus file."""


@dataclass(frozen=True)
class CorpusSplit:
    """Training and held-out sentences of one corpus."""

    train: Sentences
    held_out: Sentences


def read_corpus(path: str, min_tokens: int = 1, max_tokens: int = 100) -> Sentences:
    """
    Read one sentence per line. Lines with fewer than `min_tokens` or more than `max_tokens`
    tokens are dropped. A missing, empty, binary or non-UTF-8 file, or one with no sentence left
    after filtering, raises `CorpusError` naming the problem.
    """
    if not os.path.isfile(path):
        raise CorpusError(f"corpus file not found: {path}")
    with open(path, "rb") as corpus_file:
        data = corpus_file.read()
    if not data.strip():
        raise CorpusError(f"corpus file {path} is empty")
    if b"\0" in data:
        raise CorpusError(f"corpus file {path} is binary (it contains NUL bytes), not one sentence per line")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CorpusError(f"corpus file {path} is not UTF-8 text ({error.reason} at byte {error.start})") from None
    sentences = [line.split() for line in text.splitlines()]
    kept = within_length(sentences, min_tokens, max_tokens)
    if not kept:
        raise CorpusError(
            f"corpus file {path} has no sentence of {min_tokens} to {max_tokens} tokens "
            f"({len(sentences)} lines read)"
        )
    return kept


def within_length(sentences: Sequence[List[str]], min_tokens: int = 1, max_tokens: int = 100) -> Sentences:
    """The sentences of `min_tokens` to `max_tokens` tokens, in order."""
    return [list(tokens) for tokens in sentences if min_tokens <= len(tokens) <= max_tokens]


def split_held_out(sentences: Sequence[List[str]], every: int = 10) -> CorpusSplit:
    """Every `every`-th sentence (the 1st, the `every + 1`-th, ...) is held out; no randomness."""
    if every < 2:
        raise CorpusError(f"held-out interval must be at least 2, got {every}")
    held_out = [sentence for index, sentence in enumerate(sentences) if index % every == 0]
    train = [sentence for index, sentence in enumerate(sentences) if index % every != 0]
    if not train or not held_out:
        raise CorpusError(f"{len(sentences)} sentences are too few to split one in {every} off")
    return CorpusSplit(train=train, held_out=held_out)


def corpus_text(sentences: Sequence[List[str]]) -> str:
    """One sentence per line, tokens joined by single spaces."""
    return "".join(" ".join(tokens) + "\n" for tokens in sentences)


def text_sha256(sentences: Sequence[Sequence[str]]) -> str:
    """sha256 of `corpus_text(sentences)`: what calibration statistics and distilled files record of their text."""
    return hashlib.sha256(corpus_text(sentences).encode("utf-8")).hexdigest()


def write_corpus(sentences: Sequence[List[str]], path: str) -> None:
    """`corpus_text`, written atomically."""
    atomic_write_text(path, corpus_text(sentences))


TRAIN_NAME = "train.txt"
HELD_OUT_NAME = "heldout.txt"


def write_split(
    sentences: Sequence[List[str]], every: int, output_dir: str, inputs: Sequence[str] = (), force: bool = False
) -> List[Tuple[str, int, int]]:
    """
    Split off every `every`-th sentence and write `output_dir/train.txt` and `heldout.txt` as a set.
    Returns (path, sentences, tokens) per file.
    """
    split = split_held_out(sentences, every)
    written = []
    with OutputFolder(output_dir, inputs=inputs, names=(TRAIN_NAME, HELD_OUT_NAME), force=force) as output:
        for name, part in ((TRAIN_NAME, split.train), (HELD_OUT_NAME, split.held_out)):
            write_text(output.path(name), corpus_text(part))
            written.append((output.final_path(name), len(part), sum(len(tokens) for tokens in part)))
    return written
