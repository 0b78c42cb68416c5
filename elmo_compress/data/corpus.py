"""
Language-model corpora: one tokenized sentence per line (tokens separated by whitespace), as
bilm-tf and `compress-elmo pretrain` read them.
"""

import os
from dataclasses import dataclass
from typing import List, Sequence

from elmo_compress.atomic import atomic_output
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
    kept = [tokens for tokens in sentences if min_tokens <= len(tokens) <= max_tokens]
    if not kept:
        raise CorpusError(
            f"corpus file {path} has no sentence of {min_tokens} to {max_tokens} tokens "
            f"({len(sentences)} lines read)"
        )
    return kept


def split_held_out(sentences: Sequence[List[str]], every: int = 10) -> CorpusSplit:
    """Every `every`-th sentence (the 1st, the `every + 1`-th, ...) is held out; no randomness."""
    if every < 2:
        raise CorpusError(f"held-out interval must be at least 2, got {every}")
    held_out = [sentence for index, sentence in enumerate(sentences) if index % every == 0]
    train = [sentence for index, sentence in enumerate(sentences) if index % every != 0]
    if not train or not held_out:
        raise CorpusError(f"{len(sentences)} sentences are too few to split one in {every} off")
    return CorpusSplit(train=train, held_out=held_out)


def write_corpus(sentences: Sequence[List[str]], path: str) -> None:
    """One sentence per line, tokens joined by single spaces, written atomically."""
    with atomic_output(path) as temporary:
        with open(temporary, "w", encoding="utf-8") as corpus_file:
            corpus_file.writelines(" ".join(tokens) + "\n" for tokens in sentences)
