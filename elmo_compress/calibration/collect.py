"""
Calibration: run the uncompressed biLM over text and accumulate, for every LSTM matrix, the second
moment and mean of the vectors it multiplies: the layer input for W_i (allennlp's `input_linearity`:
the token representation for layer 0, the output of the layer below for the others, with its skip
connection when it has one) and the projected previous state h_{t-1} for W_h (`state_linearity`, the zero initial state
included: it is an input the matrix sees). Stateless batches (states reset per batch), allennlp's own
timestep loop, so forward hooks see exactly the rows it computes (no padding).
"""

import os
from typing import Any, Callable, Dict, List, Optional, Sequence

import torch
from allennlp.modules.elmo import batch_to_ids

from elmo_compress.calibration.statistics import (
    InputStatistics,
    StatisticsError,
    statistics_key,
    weights_lstm_sha256,
)
from elmo_compress.data.corpus import text_sha256
from elmo_compress.constants import DEFAULT_CALIBRATION_SENTENCES, MATRIX_TARGETS, MatrixKey
from elmo_compress.errors import ElmoCompressError
from elmo_compress.modules import CompressedElmoBiLm
from elmo_compress.modules.runtime_options import RuntimeOptions
from elmo_compress.modules.surgery import lstm_cells
from elmo_compress.progress import bar
from elmo_compress.weights import ElmoWeights
from elmo_compress.weights.layout import TARGET_ATTRIBUTES

DEFAULT_BATCH_SIZE = 64
# allennlp's loop without carried states: every batch starts from zero states.
_STATELESS_LOOP = RuntimeOptions(fast_path=False, stateful=False)


class _Accumulator:
    """Running float64 sums of x x^T and x over the rows a hook sees."""

    def __init__(self) -> None:
        self.outer: Optional[torch.Tensor] = None
        self.total: Optional[torch.Tensor] = None
        self.count = 0

    def __call__(self, module: torch.nn.Module, inputs: Any) -> None:
        # shape: (rows, n)
        rows = inputs[0].detach().to(torch.float64)
        if self.outer is None:
            self.outer = torch.zeros(rows.shape[1], rows.shape[1], dtype=torch.float64)
            self.total = torch.zeros(rows.shape[1], dtype=torch.float64)
        self.outer += rows.T @ rows
        self.total += rows.sum(dim=0)
        self.count += rows.shape[0]


def compute_statistics(
    weights: ElmoWeights,
    sentences: Sequence[Sequence[str]],
    batch_size: int = DEFAULT_BATCH_SIZE,
    show_progress: bool = True,
) -> InputStatistics:
    """
    The input statistics of every LSTM matrix of an uncompressed biLM on `sentences`.

    # Parameters

    weights : `ElmoWeights`
        Uncompressed biLM.
    sentences : `Sequence[Sequence[str]]`
        Tokenized calibration text (at least one non-empty sentence).
    batch_size : `int`, optional (default = `64`)
        Sentences per batch (sorted by length first, to pad little).
    show_progress : `bool`, optional (default = `True`)

    # Returns

    statistics : `InputStatistics`
    """
    if weights.is_compressed:
        raise ElmoCompressError("calibration needs the uncompressed biLM; these weights are already compressed")
    sentences = [list(tokens) for tokens in sentences if tokens]
    if not sentences:
        raise ElmoCompressError("the calibration text has no usable sentence")
    bilm = CompressedElmoBiLm(weights=weights, runtime=_STATELESS_LOOP).eval()
    accumulators: Dict[MatrixKey, _Accumulator] = {}
    handles = []
    for layer, direction, cell in lstm_cells(bilm._elmo_lstm):
        for target in MATRIX_TARGETS:
            accumulators[(layer, direction, target)] = _Accumulator()
            module = getattr(cell, TARGET_ATTRIBUTES[target])
            handles.append(module.register_forward_pre_hook(accumulators[(layer, direction, target)]))
    order = sorted(range(len(sentences)), key=lambda index: len(sentences[index]))
    progress = bar(len(order), "calibrating", unit="sentence") if show_progress else None
    try:
        with torch.no_grad():
            for start in range(0, len(order), batch_size):
                batch = [sentences[index] for index in order[start : start + batch_size]]
                bilm(batch_to_ids(batch))
                if progress is not None:
                    progress.update(len(batch))
    finally:
        for handle in handles:
            handle.remove()
        if progress is not None:
            progress.close()
    return InputStatistics(
        second_moments={key: value.outer / value.count for key, value in accumulators.items()},
        means={key: value.total / value.count for key, value in accumulators.items()},
        counts={key: value.count for key, value in accumulators.items()},
        weights_sha256=weights_lstm_sha256(weights),
        text_sha256=text_sha256(sentences),
        settings={"batch_size": batch_size, "sentences": len(sentences), "loop": "allennlp, stateless"},
    )


def default_cache_dir() -> Optional[str]:
    """
    Where computed statistics are kept between runs: `$ELMO_COMPRESS_CACHE/calibration` when that
    variable is set; otherwise None (nothing is written outside a command's output path by default).
    """
    root = os.environ.get("ELMO_COMPRESS_CACHE")
    return os.path.join(root, "calibration") if root else None


def cached_statistics_file(
    weights: ElmoWeights,
    sentences: Sequence[Sequence[str]],
    cache_dir: str,
    batch_size: int = DEFAULT_BATCH_SIZE,
    show_progress: bool = True,
) -> str:
    """
    The statistics file of `weights` on `sentences`: computed once per biLM, text and settings, kept in
    `cache_dir` under the sha256 of the three (written atomically), and found there afterwards. A
    damaged entry is computed again.
    """
    usable = [list(tokens) for tokens in sentences if tokens]
    if not usable:
        raise ElmoCompressError("the calibration text has no usable sentence")
    settings = {"batch_size": batch_size, "sentences": len(usable), "loop": "allennlp, stateless"}
    key = statistics_key(weights_lstm_sha256(weights), text_sha256(usable), settings)
    path = os.path.join(cache_dir, f"{key}.npz")
    if os.path.isfile(path):
        try:
            if InputStatistics.load(path).key == key:
                return path
        except StatisticsError:
            pass  # a damaged cache entry is recomputed and replaced
    statistics = compute_statistics(weights, usable, batch_size, show_progress)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    statistics.save(path)
    return path


def load_or_compute_statistics(
    weights: ElmoWeights,
    sentences: Sequence[Sequence[str]],
    cache_dir: Optional[str] = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    show_progress: bool = True,
) -> InputStatistics:
    """
    `compute_statistics`, through the cache of `cached_statistics_file` in `cache_dir` (default
    `default_cache_dir()`); computed in memory when neither names a folder.
    """
    cache_dir = cache_dir or default_cache_dir()
    if cache_dir is None:
        usable = [list(tokens) for tokens in sentences if tokens]
        if not usable:
            raise ElmoCompressError("the calibration text has no usable sentence")
        return compute_statistics(weights, usable, batch_size, show_progress)
    return InputStatistics.load(cached_statistics_file(weights, sentences, cache_dir, batch_size, show_progress))


def calibration_sentences(sentences: Sequence[List[str]], count: Optional[int]) -> List[List[str]]:
    """`count` sentences spread evenly over `sentences` (all of them when `count` is None or larger)."""
    usable = [tokens for tokens in sentences if tokens]
    if not usable:
        raise ElmoCompressError("the calibration text has no usable sentence")
    if count is None or count >= len(usable):
        return usable
    if count < 1:
        raise ElmoCompressError(f"calibration sentences must be >= 1, got {count}")
    return [usable[index * len(usable) // count] for index in range(count)]


def calibration_source(
    text_file: Optional[str] = None, sentences: int = DEFAULT_CALIBRATION_SENTENCES
) -> Callable[[ElmoWeights], Dict[MatrixKey, torch.Tensor]]:
    """
    What `compress_files` calls, once it has read the weights, for the second moments of their matrices'
    inputs: on `sentences` sentences of `text_file` (default: the embedded training split), cached.
    """
    from elmo_compress.data import default_split, read_corpus

    text = read_corpus(text_file) if text_file else None  # read (and refused) before any work

    def second_moments(weights: ElmoWeights) -> Dict[MatrixKey, torch.Tensor]:
        chosen = calibration_sentences(text if text is not None else default_split()[0], sentences)
        return load_or_compute_statistics(weights, chosen).second_moments

    return second_moments
