"""
Building the timed modules and timing them: warm, interleaved repeats, medians; every row's output
deviation from stock allennlp, and the int8 deviation of every int8 row from the float row with the
same factors. Whole-biLM rows read real running text (`RunningText`); their character caches are
warmed on the text before it.
"""

import copy
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from allennlp.modules.elmo import _ElmoBiLm, batch_to_ids
from allennlp.modules.elmo_lstm import ElmoLstm

from elmo_compress.benchmark.macs import char_cnn_macs_per_token, lstm_macs_per_token
from elmo_compress.benchmark.models import SHAPES, Model, RunningText, Setting, bilm_settings, lstm_settings
from elmo_compress.constants import DEFAULT_CHAR_CACHE
from elmo_compress.factorize import CompressionSpec
from elmo_compress.modules import (
    CompressedElmoBiLm,
    FastElmoLstm,
    RuntimeOptions,
    load_lstm_weights,
    quantize_elmo_lstm,
)
from elmo_compress.weights import ElmoOptions, ElmoWeights, compress_weights

# Tokens of running text the character caches see before the timed batches.
WARM_TOKENS = 20_000
WARM_BATCH = 64  # sentences per batch while warming


@dataclass
class Row:
    setting: Setting
    seconds: List[float]
    macs: int  # per token; with the cache, the character encoder's counted for the tokens it encoded
    tokens: int
    deviation: float = 0.0  # max |output - stock output| / max |stock output|
    int8_deviation: Optional[float] = None
    hit_rate: Optional[float] = None  # share of token rows the cache served, in the timed batches
    ppl_ratio: Optional[float] = None  # demo-biLM perplexity at the same relative rank / uncompressed

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.median


def new_elmo_lstm(options: ElmoOptions) -> ElmoLstm:
    return ElmoLstm(**options.elmo_lstm_arguments())


class CompressedWeights:
    """The rows' weights: dense, or SVD-compressed per (target, rank), each factorized once."""

    def __init__(self, dense: ElmoWeights) -> None:
        self.dense = dense
        self._compressed: Dict[Tuple[str, int], ElmoWeights] = {}

    def __call__(self, setting: Setting) -> ElmoWeights:
        if setting.target is None:
            return self.dense
        key = (setting.target, setting.rank)
        if key not in self._compressed:
            spec = CompressionSpec.from_dict({"method": "svd", "target": setting.target, "rank": setting.rank})
            self._compressed[key] = compress_weights(self.dense, spec)[0]
        return self._compressed[key]


def build_lstm(weights: CompressedWeights, setting: Setting, template: ElmoLstm) -> torch.nn.Module:
    """
    An allennlp `ElmoLstm` or a `FastElmoLstm` (stateful, like allennlp's) for one row, copied from
    `template` (an `ElmoLstm` of the right size: its random initialisation is slow at ELMo size).
    """
    lstm = copy.deepcopy(template)
    load_lstm_weights(lstm, weights(setting))
    if setting.int8:
        quantize_elmo_lstm(lstm)
    if setting.loop == "allennlp":
        return lstm
    return FastElmoLstm.from_elmo_lstm(lstm, use_torchscript=setting.loop == "torchscript")


def build_bilm(weights: CompressedWeights, files: Tuple[str, str], setting: Setting) -> torch.nn.Module:
    """allennlp's `_ElmoBiLm` (from the two files) or ours (from the weights in memory), stateful, no dropout."""
    if setting.loop == "allennlp":
        return _ElmoBiLm(*files).eval()
    runtime = RuntimeOptions(int8=setting.int8, char_cache=DEFAULT_CHAR_CACHE if setting.cache else 0)
    return CompressedElmoBiLm(weights=weights(setting), runtime=runtime).eval()


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def interleaved_seconds(
    calls: Sequence[Callable[[int], object]], repeats: int, warmup: int = 1
) -> List[List[float]]:
    """
    Wall-clock seconds of each call, `repeats` rounds in turn (so load changes hit every row alike),
    after `warmup` untimed rounds. Each call gets the round's number (0, 1, ..., warmup first).
    """
    seconds: List[List[float]] = [[] for _ in calls]
    with torch.no_grad():
        for round_number in range(warmup):
            for call in calls:
                call(round_number)
        for round_number in range(warmup, warmup + repeats):
            for index, call in enumerate(calls):
                start = time.perf_counter()
                call(round_number)
                seconds[index].append(time.perf_counter() - start)
    return seconds


def relative_deviation(actual: torch.Tensor, expected: torch.Tensor) -> float:
    """max |actual - expected| / max |expected|."""
    return float((actual - expected).abs().max() / expected.abs().max())


def deviations(settings: List[Setting], outputs: List[torch.Tensor]) -> Tuple[List[float], Dict[int, float]]:
    """
    Each row's deviation from the first (stock) row, and each int8 row's from the float fast-path row
    with the same factors (the uncached one).
    """
    from_stock = [relative_deviation(output, outputs[0]) for output in outputs]
    float_rows = {
        (s.target, s.rank): i
        for i, s in enumerate(settings)
        if not s.int8 and not s.cache and s.loop == "torchscript"
    }
    int8 = {}
    for index, setting in enumerate(settings):
        reference = float_rows.get((setting.target, setting.rank))
        if setting.int8 and reference is not None:
            int8[index] = relative_deviation(outputs[index], outputs[reference])
    return from_stock, int8


def time_lstm(model: Model, dense: ElmoWeights, repeats: int) -> Dict[Tuple[int, int], List[Row]]:
    settings = lstm_settings(model)
    progress(f"{model.name}: building {len(settings)} biLSTMs")
    template = new_elmo_lstm(dense.options)
    weights = CompressedWeights(dense)
    modules = [build_lstm(weights, setting, template) for setting in settings]
    generator = torch.Generator().manual_seed(0)
    results = {}
    for batch_size, length in SHAPES:
        # shape (batch_size, length, projection_dim): what the character CNN would hand the biLSTM
        inputs = torch.randn(batch_size, length, dense.options.projection_dim, generator=generator)
        mask = torch.ones(batch_size, length, dtype=torch.bool)
        calls = [lambda _, module=module: module(inputs, mask) for module in modules]
        progress(f"{model.name}: timing the biLSTMs at batch {batch_size} x {length}")
        seconds = interleaved_seconds(calls, repeats)
        outputs = []
        with torch.no_grad():
            for module in modules:
                module.reset_states()
                outputs.append(module(inputs, mask))
        from_stock, int8 = deviations(settings, outputs)
        results[(batch_size, length)] = [
            Row(s, t, lstm_macs_per_token(dense.options, s), batch_size * length, from_stock[i], int8.get(i))
            for i, (s, t) in enumerate(zip(settings, seconds))
        ]
    return results


def warm_caches(modules: List[torch.nn.Module], text: RunningText, length: int) -> None:
    """Run the character encoder of every cached biLM over the next `WARM_TOKENS` tokens of text."""
    windows = [text.take(length) for _ in range(WARM_TOKENS // length)]
    with torch.no_grad():
        for module in modules:
            for start in range(0, len(windows), WARM_BATCH):
                module._token_embedder(batch_to_ids(windows[start : start + WARM_BATCH]))


def bilm_outputs(modules: List[torch.nn.Module], character_ids: torch.Tensor) -> List[torch.Tensor]:
    """Each biLM's three layers from zero states, shape (3, batch_size, timesteps + 2, 2 * projection_dim)."""
    outputs = []
    with torch.no_grad():
        for module in modules:
            module._elmo_lstm.reset_states()
            outputs.append(torch.stack(module(character_ids)["activations"]))
    return outputs


def time_bilm(
    model: Model, dense: ElmoWeights, repeats: int, text: RunningText
) -> Dict[Tuple[int, int], List[Row]]:
    """
    The whole biLM, characters in, three layers out. Every round times every row on the same new batch
    of running text; the cached rows first see `WARM_TOKENS` tokens of the text before.
    """
    settings = bilm_settings(model)
    with tempfile.TemporaryDirectory() as folder:
        files = (os.path.join(folder, "options.json"), os.path.join(folder, "weights.hdf5"))
        dense.options.save(files[0])
        dense.save(files[1])
        progress(f"{model.name}: building {len(settings)} whole biLMs")
        weights = CompressedWeights(dense)
        modules = [build_bilm(weights, files, setting) for setting in settings]
    cached = [module for module, setting in zip(modules, settings) if setting.cache]
    progress(f"{model.name}: warming {len(cached)} character caches on {WARM_TOKENS:,} tokens of text")
    warm_caches(cached, text, SHAPES[-1][1])
    caches = [module._token_embedder.char_cache if s.cache else None for module, s in zip(modules, settings)]
    results = {}
    for batch_size, length in SHAPES:
        # shapes (batch_size, length, 50): one new batch per round, then one for the deviations
        batches = [batch_to_ids(text.batch(batch_size, length)) for _ in range(repeats + 2)]
        calls = [lambda round_number, module=module: module(batches[round_number]) for module in modules]
        progress(f"{model.name}: timing the whole biLMs at batch {batch_size} x {length}")
        misses = [cache.misses if cache else 0 for cache in caches]
        seconds = interleaved_seconds(calls, repeats, warmup=1)
        rows = repeats * batch_size * (length + 2)  # token rows of the timed rounds, <S> and </S> included
        hit_rates = [
            None if cache is None else 1 - (cache.misses - missed) / rows for cache, missed in zip(caches, misses)
        ]
        from_stock, int8 = deviations(settings, bilm_outputs(modules, batches[-1]))
        results[(batch_size, length)] = [
            bilm_row(dense.options, s, t, batch_size * length, from_stock[i], int8.get(i), hit_rates[i])
            for i, (s, t) in enumerate(zip(settings, seconds))
        ]
    return results


def bilm_row(
    options: ElmoOptions,
    setting: Setting,
    seconds: List[float],
    tokens: int,
    deviation: float,
    int8_deviation: Optional[float],
    hit_rate: Optional[float],
) -> Row:
    """A whole-biLM row: the character encoder's multiply-adds count only for the token rows it encoded."""
    encoded = 1.0 if hit_rate is None else 1 - hit_rate
    macs = lstm_macs_per_token(options, setting) + round(encoded * char_cnn_macs_per_token(options))
    return Row(setting, seconds, macs, tokens, deviation, int8_deviation, hit_rate)
