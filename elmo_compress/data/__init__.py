"""Text that ships with Python, used as the embedded default corpus."""

from elmo_compress.data.stdlib_corpus import stdlib_sentences, tokenize
