"""
Progress shown on the terminal (stderr) by the command line: bars for matrices, iterations and steps.
The library reports through small callback objects; this module turns them into tqdm bars.
"""

import sys
from typing import Any, Optional

from tqdm import tqdm


def bar(total: Optional[int], description: str, unit: str = "it") -> Any:
    """A tqdm bar on stderr; in a log (not a terminal) it updates at most every 10 seconds."""
    interval = 0.1 if sys.stderr.isatty() else 10.0
    return tqdm(total=total, desc=description, unit=unit, file=sys.stderr, mininterval=interval, dynamic_ncols=True)


class CompressionBar:
    """`elmo_compress.weights.compress.CompressionProgress` as a bar: one step per matrix done, the
    matrix being compressed and Semi-NMF's iteration and objective in its postfix."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.started = 0
        self.current = ""

    def start(self, total: int) -> None:
        self.bar = bar(total, "compressing", unit="matrix") if total else None

    def matrix(self, name: str, method: str, rank: int) -> None:
        if self.bar is None:
            return
        if self.started:
            self.bar.update(1)
        self.started += 1
        self.current = f"{name}: {method} rank {rank}"
        self.bar.set_postfix_str(self.current)

    def iteration(self, iteration: int, objective: float) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(f"{self.current}, iteration {iteration}, objective {objective:.6g}", refresh=False)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.update(self.bar.total - self.bar.n)
            self.bar.close()


class EmbedBar:
    """`elmo_compress.embed.embedding.EmbedProgress` as a bar of tokens, with tokens per second."""

    def __init__(self) -> None:
        self.bar: Any = None

    def start(self, tokens: int) -> None:
        self.bar = bar(tokens, "embedding", unit="token")

    def batch(self, tokens: int) -> None:
        self.bar.update(tokens)

    def finish(self) -> None:
        self.bar.close()
