"""
Building the timed modules and timing them: warm, interleaved repeats, medians; the int8 deviation of
every int8 row from the float row with the same factors.
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
from allennlp.modules.elmo import Elmo, batch_to_ids
from allennlp.modules.elmo_lstm import ElmoLstm

from elmo_compress.benchmark.macs import char_cnn_macs_per_token, lstm_macs_per_token
from elmo_compress.benchmark.models import SHAPES, Model, Setting, bilm_settings, lstm_settings
from elmo_compress.factorize import CompressionSpec
from elmo_compress.modules import CompressedElmoBiLm, FastElmoLstm, RuntimeOptions, load_lstm_weights, quantize_elmo_lstm
from elmo_compress.weights import ElmoOptions, ElmoWeights, compress_weights


@dataclass
class Row:
    setting: Setting
    seconds: List[float]
    macs: int
    tokens: int
    int8_deviation: Optional[float] = None

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.median


def new_elmo_lstm(options: ElmoOptions) -> ElmoLstm:
    return ElmoLstm(**options.elmo_lstm_arguments())


def settings_weights(dense: ElmoWeights, setting: Setting) -> ElmoWeights:
    if setting.target is None:
        return dense
    spec = CompressionSpec.from_dict({"method": "svd", "target": setting.target, "rank": setting.rank})
    return compress_weights(dense, spec)[0]


def build_lstm(dense: ElmoWeights, setting: Setting, template: ElmoLstm) -> torch.nn.Module:
    """
    An allennlp `ElmoLstm` or a `FastElmoLstm` (stateful, like allennlp's) for one row, copied from
    `template` (an `ElmoLstm` of the right size: its random initialisation is slow at ELMo size).
    """
    lstm = copy.deepcopy(template)
    load_lstm_weights(lstm, settings_weights(dense, setting))
    if setting.int8:
        quantize_elmo_lstm(lstm)
    if setting.loop == "allennlp":
        return lstm
    return FastElmoLstm.from_elmo_lstm(lstm, use_torchscript=setting.loop == "torchscript")


def build_bilm(options_file: str, weight_file: str, setting: Setting) -> torch.nn.Module:
    """allennlp's `Elmo` (one representation, no dropout) on allennlp's biLM or on ours."""
    if setting.loop == "allennlp":
        return Elmo(options_file, weight_file, 1, dropout=0.0)
    spec = None
    if setting.target is not None:
        spec = CompressionSpec.from_dict({"method": "svd", "target": setting.target, "rank": setting.rank})
    bilm = CompressedElmoBiLm(options_file, weight_file, compression=spec, runtime=RuntimeOptions(int8=setting.int8))
    return Elmo(None, None, 1, dropout=0.0, module=bilm)


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def interleaved_seconds(calls: Sequence[Callable[[], object]], repeats: int, warmup: int = 1) -> List[List[float]]:
    """Wall-clock seconds of each call, `repeats` rounds in turn (so load changes hit every row alike)."""
    seconds: List[List[float]] = [[] for _ in calls]
    with torch.no_grad():
        for _ in range(warmup):
            for call in calls:
                call()
        for _ in range(repeats):
            for index, call in enumerate(calls):
                start = time.perf_counter()
                call()
                seconds[index].append(time.perf_counter() - start)
    return seconds


def relative_deviation(actual: torch.Tensor, expected: torch.Tensor) -> float:
    """max |actual - expected| / max |expected|."""
    return float((actual - expected).abs().max() / expected.abs().max())


def int8_deviations(
    modules: List[torch.nn.Module], settings: List[Setting], run: Callable[[torch.nn.Module], torch.Tensor]
) -> Dict[int, float]:
    """
    For each int8 row, the deviation of its output from the float fast-path row with the same
    factors; `run` resets a module's states and returns its output on the benchmark input.
    """
    float_rows = {(s.target, s.rank): i for i, s in enumerate(settings) if not s.int8 and s.loop == "torchscript"}
    deviations = {}
    with torch.no_grad():
        for index, setting in enumerate(settings):
            reference = float_rows.get((setting.target, setting.rank))
            if setting.int8 and reference is not None:
                deviations[index] = relative_deviation(run(modules[index]), run(modules[reference]))
    return deviations


def lstm_int8_deviations(
    modules: List[torch.nn.Module], settings: List[Setting], inputs: torch.Tensor, mask: torch.Tensor
) -> Dict[int, float]:
    def run(lstm: torch.nn.Module) -> torch.Tensor:
        lstm.reset_states()
        return lstm(inputs, mask)

    return int8_deviations(modules, settings, run)


def bilm_int8_deviations(
    modules: List[torch.nn.Module], settings: List[Setting], character_ids: torch.Tensor
) -> Dict[int, float]:
    def run(elmo: torch.nn.Module) -> torch.Tensor:
        elmo._elmo_lstm._elmo_lstm.reset_states()
        return elmo(character_ids)["elmo_representations"][0]

    return int8_deviations(modules, settings, run)


def time_lstm(model: Model, dense: ElmoWeights, repeats: int) -> Dict[Tuple[int, int], List[Row]]:
    settings = lstm_settings(model)
    progress(f"{model.name}: building {len(settings)} biLSTMs")
    template = new_elmo_lstm(dense.options)
    modules = [build_lstm(dense, setting, template) for setting in settings]
    generator = torch.Generator().manual_seed(0)
    results = {}
    for batch_size, length in SHAPES:
        # shape (batch_size, length, projection_dim): what the character CNN would hand the biLSTM
        inputs = torch.randn(batch_size, length, dense.options.projection_dim, generator=generator)
        mask = torch.ones(batch_size, length, dtype=torch.bool)
        calls = [lambda module=module: module(inputs, mask) for module in modules]
        progress(f"{model.name}: timing the biLSTMs at batch {batch_size} x {length}")
        seconds = interleaved_seconds(calls, repeats)
        deviations = lstm_int8_deviations(modules, settings, inputs, mask)
        results[(batch_size, length)] = [
            Row(s, t, lstm_macs_per_token(dense.options, s), batch_size * length, deviations.get(i))
            for i, (s, t) in enumerate(zip(settings, seconds))
        ]
    return results


def random_sentences(batch_size: int, length: int) -> List[List[str]]:
    return [[f"token{(row * length + column) % 997}" for column in range(length)] for row in range(batch_size)]


def time_bilm(model: Model, dense: ElmoWeights, repeats: int) -> Dict[Tuple[int, int], List[Row]]:
    settings = bilm_settings(model)
    char_side = char_cnn_macs_per_token(dense.options)
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        options_file, weight_file = os.path.join(folder, "options.json"), os.path.join(folder, "weights.hdf5")
        dense.options.save(options_file)
        dense.save(weight_file)
        progress(f"{model.name}: building {len(settings)} whole biLMs")
        modules = [build_bilm(options_file, weight_file, setting) for setting in settings]
    for batch_size, length in SHAPES:
        # shape (batch_size, length, 50)
        character_ids = batch_to_ids(random_sentences(batch_size, length))
        calls = [lambda module=module: module(character_ids) for module in modules]
        progress(f"{model.name}: timing the whole biLMs at batch {batch_size} x {length}")
        seconds = interleaved_seconds(calls, repeats)
        deviations = bilm_int8_deviations(modules, settings, character_ids)
        results[(batch_size, length)] = [
            Row(s, t, lstm_macs_per_token(dense.options, s) + char_side, batch_size * length, deviations.get(i))
            for i, (s, t) in enumerate(zip(settings, seconds))
        ]
    return results
