"""
What the speed benchmark times: the biLMs (original ELMo dimensions with random weights, the demo biLM),
the batch shapes, the rows (loop, compressed target and rank, int8, character cache), and the real text
the whole-biLM rows read.
"""

import os
from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple

from elmo_compress.constants import DEMO_BILM_DIR, OPTIONS_NAME, TARGET_LABELS, WEIGHTS_NAME
from elmo_compress.weights import ElmoWeights
from elmo_compress.weights.synthetic import elmo_options, random_elmo_weights

SHAPES = ((1, 20), (32, 40))  # (batch size, tokens per sentence)
# The original ELMo character CNN (2x4096_512_2048cnn_2xhighway).
ELMO_FILTERS = ((1, 32), (2, 32), (3, 64), (4, 128), (5, 256), (6, 512), (7, 1024))
MAX_CHARACTERS = 50


@dataclass(frozen=True)
class Setting:
    """One row: which loop runs, which matrices are SVD-factorized at which rank, and int8 or not."""

    label: str
    loop: str = "torchscript"  # "allennlp", "python" or "torchscript"
    target: Optional[str] = None  # None (dense), "recurrent" or "both"
    rank: Optional[int] = None
    int8: bool = False
    cache: bool = False  # the character cache (whole biLM only; with int8 the encoder stays float)


@dataclass(frozen=True)
class Model:
    """
    A biLM to time: its name, how to get its weights, the SVD ranks (of the biLSTM rows, and of W_i+W_h
    in the whole-biLM rows), and the rank combined with int8 in the biLSTM rows.
    """

    name: str
    description: str
    weights: Callable[[], ElmoWeights]
    ranks: Tuple[int, ...]
    int8_rank: int


def elmo_model() -> Model:
    options = elmo_options(512, 4096, filters=ELMO_FILTERS, num_highway=2)
    return Model(
        "elmo",
        "original ELMo dimensions (2 layers, cell 4096, projection 512, 2048 char filters, 2 highway), "
        "random weights",
        lambda: random_elmo_weights(options, seed=0),
        (64, 128, 256),
        64,
    )


def demo_model() -> Model:
    return Model(
        "demo",
        "the demo biLM (2 layers, cell 256, projection 64), trained weights from elmo_compress/demo_bilm",
        lambda: ElmoWeights.load(os.path.join(DEMO_BILM_DIR, OPTIONS_NAME), os.path.join(DEMO_BILM_DIR, WEIGHTS_NAME)),
        (8, 16, 32),
        8,
    )


MODELS = {"elmo": elmo_model, "demo": demo_model}


def lstm_settings(model: Model) -> List[Setting]:
    settings = [
        Setting("stock allennlp ElmoLstm", loop="allennlp"),
        Setting("fast path dense, Python loop", loop="python"),
        Setting("fast path dense"),
    ]
    for target in ("recurrent", "both"):
        settings += [
            Setting(f"fast SVD {TARGET_LABELS[target]} r{rank}", target=target, rank=rank) for rank in model.ranks
        ]
    settings += [
        Setting("int8 dense, allennlp loop", loop="allennlp", int8=True),
        Setting("int8 dense, fast path", int8=True),
    ]
    for target in ("recurrent", "both"):
        label = f"int8 + SVD {TARGET_LABELS[target]} r{model.int8_rank}"
        settings.append(Setting(label, target=target, rank=model.int8_rank, int8=True))
    return settings


def bilm_settings(model: Model) -> List[Setting]:
    """
    Whole-biLM rows: stock, fast dense, SVD of W_i+W_h at each rank (largest first), the same with int8,
    the character cache on the dense biLM (float and int8) and on int8 + SVD of W_i+W_h at each rank.
    """
    ranks = sorted(model.ranks, reverse=True)
    label = TARGET_LABELS["both"]
    settings = [Setting("stock allennlp _ElmoBiLm", loop="allennlp"), Setting("fast path dense")]
    settings += [Setting(f"fast SVD {label} r{rank}", target="both", rank=rank) for rank in ranks]
    settings.append(Setting("int8 dense, fast path", int8=True))
    settings += [Setting(f"int8 + SVD {label} r{rank}", target="both", rank=rank, int8=True) for rank in ranks]
    settings.append(Setting("fast path dense + char cache", cache=True))
    settings.append(Setting("int8 dense + char cache", int8=True, cache=True))
    settings += [
        Setting(f"int8 + SVD {label} r{rank} + char cache", target="both", rank=rank, int8=True, cache=True)
        for rank in ranks
    ]
    return settings


class RunningText:
    """
    Real running text for the whole-biLM rows: sentences (the embedded corpus's training split,
    `elmo_compress.data.default_split`, English from Python's documentation) as one token stream,
    handed out in order, so each part is text no earlier part contained as a whole.
    """

    def __init__(self, sentences: List[List[str]]) -> None:
        self.stream = [token for sentence in sentences for token in sentence]
        self.position = 0

    def take(self, tokens: int) -> List[str]:
        if self.position + tokens > len(self.stream):
            raise ValueError(f"the corpus has {len(self.stream)} tokens, fewer than the benchmark reads")
        part = self.stream[self.position : self.position + tokens]
        self.position += tokens
        return part

    def batch(self, batch_size: int, length: int) -> List[List[str]]:
        """`batch_size` consecutive windows of `length` tokens (every sentence full length)."""
        return [self.take(length) for _ in range(batch_size)]
