"""
The word vocabulary of the biLM's softmax (bilm-tf's `vocab.txt` layout: one token per line,
`</S>`, `<S>`, `<UNK>` first, then words by falling count).
"""

import collections
import os
from typing import Dict, List, Sequence

import torch

from elmo_compress.outputs import atomic_write_text
from elmo_compress.errors import ElmoCompressError

BOS, EOS, UNK = "<S>", "</S>", "<UNK>"
SPECIAL_TOKENS = (EOS, BOS, UNK)


class LmVocabulary:
    """
    Token <-> id for the language-model softmax.

    # Parameters

    tokens : `Sequence[str]`
        All tokens, `</S>`, `<S>`, `<UNK>` first.
    """

    def __init__(self, tokens: Sequence[str]) -> None:
        if tuple(tokens[:3]) != SPECIAL_TOKENS:
            raise ElmoCompressError(f"a vocabulary must start with {', '.join(SPECIAL_TOKENS)}")
        self.tokens: List[str] = list(tokens)
        self.index: Dict[str, int] = {token: i for i, token in enumerate(self.tokens)}
        if len(self.index) != len(self.tokens):
            raise ElmoCompressError("a vocabulary must not repeat a token")

    def __len__(self) -> int:
        return len(self.tokens)

    @classmethod
    def build(cls, sentences: Sequence[List[str]], max_size: int = 20000, min_count: int = 1) -> "LmVocabulary":
        """The `max_size` most frequent words seen at least `min_count` times (ties by first use)."""
        counts = collections.Counter(token for tokens in sentences for token in tokens)
        words = [word for word, count in counts.most_common() if count >= min_count and word not in SPECIAL_TOKENS]
        return cls(list(SPECIAL_TOKENS) + words[: max(0, max_size - len(SPECIAL_TOKENS))])

    def ids(self, tokens: Sequence[str]) -> torch.Tensor:
        """Ids of `<S> tokens </S>`, shape (len(tokens) + 2,); unknown words map to `<UNK>`."""
        unknown = self.index[UNK]
        return torch.tensor(
            [self.index[BOS]] + [self.index.get(token, unknown) for token in tokens] + [self.index[EOS]]
        )

    def save(self, path: str) -> None:
        atomic_write_text(path, "".join(token + "\n" for token in self.tokens))

    @classmethod
    def load(cls, path: str) -> "LmVocabulary":
        if not os.path.isfile(path):
            raise ElmoCompressError(f"vocabulary file not found: {path}")
        with open(path, encoding="utf-8") as vocabulary_file:
            return cls([line.rstrip("\n") for line in vocabulary_file if line.strip()])
