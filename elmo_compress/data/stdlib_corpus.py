"""
Real English sentences available on every machine with Python and no network: the documentation
topics shipped in the standard library (`pydoc_data.topics`).
"""

import re
from typing import List

_TOKEN = re.compile(r"\w+|[^\w\s]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def tokenize(text: str) -> List[str]:
    """Words and single punctuation marks."""
    return _TOKEN.findall(text)


def stdlib_sentences(limit: int = 0, min_tokens: int = 5, max_tokens: int = 40) -> List[List[str]]:
    """
    Tokenized prose sentences from `pydoc_data.topics`, in a fixed order (topics sorted by name),
    skipping code-like lines. `limit` > 0 keeps the first `limit` sentences.
    """
    from pydoc_data.topics import topics

    sentences: List[List[str]] = []
    for name in sorted(topics):
        paragraphs = re.split(r"\n\s*\n", topics[name])
        for paragraph in paragraphs:
            if paragraph.startswith((" ", "\t")) or ">>>" in paragraph:
                continue  # indented blocks are code or grammar
            for sentence in _SENTENCE_END.split(" ".join(paragraph.split())):
                tokens = tokenize(sentence)
                if min_tokens <= len(tokens) <= max_tokens and sentence[-1:] in ".!?":
                    sentences.append(tokens)
                    if 0 < limit <= len(sentences):
                        return sentences
    return sentences
