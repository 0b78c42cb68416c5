"""Corpora: reading user corpora and the embedded default corpus built from Python's own docs."""

from elmo_compress.data.corpus import (
    CorpusError,
    CorpusSplit,
    Sentences,
    read_corpus,
    split_held_out,
    within_length,
    write_corpus,
    write_split,
)
from elmo_compress.data.stdlib_corpus import default_split, sentences_from_text, stdlib_sentences, tokenize
