"""
Which sentences `compress-elmo embed` puts in which batch, and which batches a shard computes. Pure
Python (the command line parses `--shard` with `Shard.parse` before importing torch).

- Stateless (the default; LSTM states start from zero in every batch): the sentences sorted by
  length, longest first (ties in line order), cut into batches of `batch_size`. Sorting keeps padding
  low; the longest batch comes first, so a run that is short of memory fails at once.
- Stateful (`--stateful`, LSTM states carried from one batch to the next as allennlp's ELMo does):
  consecutive lines in file order, as allennlp 0.9's `allennlp elmo` batched them, so that a
  sentence's vectors depend on the same sentences before it.

A shard K/N computes batches K, K + N, K + 2N, ... of the plan (counting from 1). Sharding by batch
rather than by line keeps every batch exactly as one run forms it: a float32 CPU product rounds a
row differently depending on the other rows in it, so a sentence batched with other sentences would
differ in the last bits, and the shards would not merge into the file that one run writes. Stateful
runs cannot be sharded: a shard would start from other states than the run.
"""

import re
from dataclasses import dataclass
from typing import List, Sequence

from elmo_compress.errors import EmbedError

Batches = List[List[int]]  # line indices per batch

SHARD_FORM = "K/N with 1 <= K <= N (e.g. 2/4: the second of four shards)"


@dataclass(frozen=True)
class Shard:
    """The `index`-th (from 1) of `count` shards of a run."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if not 1 <= self.index <= self.count:
            raise EmbedError(f"a shard is {SHARD_FORM}, got {self}")

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @classmethod
    def parse(cls, text: str) -> "Shard":
        """`"K/N"` -> `Shard(K, N)`; anything else raises `EmbedError`."""
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
        if match is None:
            raise EmbedError(f"a shard is {SHARD_FORM}, got {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    def batches(self, plan: Batches) -> Batches:
        """The batches of `plan` this shard computes."""
        return plan[self.index - 1 :: self.count]


WHOLE_RUN = Shard(1, 1)


def batch_plan(lengths: Sequence[int], batch_size: int, stateful: bool) -> Batches:
    """The batches of one run over sentences of these lengths (see the module docstring)."""
    if batch_size < 1:
        raise EmbedError(f"the batch size must be >= 1, got {batch_size}")
    order = list(range(len(lengths)))
    if not stateful:
        order.sort(key=lambda index: (-lengths[index], index))
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
