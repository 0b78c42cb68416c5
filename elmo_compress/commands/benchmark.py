"""
`compress-elmo benchmark`: CPU speed of the biLSTM, stock allennlp against the fast path, low rank
and int8, on the original ELMo dimensions (random weights) and on the demo biLM. Writes a Markdown
report (tables, multiply-add arithmetic, machine, load) and a PNG plot.
"""

import argparse
import copy
import datetime
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from allennlp.modules.elmo import Elmo, batch_to_ids
from allennlp.modules.elmo_lstm import ElmoLstm

from elmo_compress import plotting
from elmo_compress.atomic import atomic_output
from elmo_compress.commands.table import format_markdown_table, format_table
from elmo_compress.factorize import CompressionSpec
from elmo_compress.lm.bundle import DEMO_BUNDLE
from elmo_compress.modules import CompressedElmoBiLm, FastElmoLstm, load_lstm_weights, quantize_elmo_lstm
from elmo_compress.weights import ElmoWeights, compress_weights
from elmo_compress.weights.options import ElmoOptions
from elmo_compress.weights.synthetic import elmo_options, random_elmo_weights

SHAPES = ((1, 20), (32, 40))  # (batch size, tokens per sentence)
# The original ELMo character CNN (2x4096_512_2048cnn_2xhighway).
ELMO_FILTERS = ((1, 32), (2, 32), (3, 64), (4, 128), (5, 256), (6, 512), (7, 1024))
TARGET_LABELS = {"recurrent": "W_h", "both": "W_i+W_h"}
MAX_CHARACTERS = 50


@dataclass(frozen=True)
class Setting:
    """One row: which loop runs, which matrices are SVD-factorized at which rank, and int8 or not."""

    label: str
    loop: str = "torchscript"  # "allennlp", "python" or "torchscript"
    target: Optional[str] = None  # None (dense), "recurrent" or "both"
    rank: Optional[int] = None
    int8: bool = False


@dataclass(frozen=True)
class Model:
    """A biLM to time: its name, how to get its weights, the SVD ranks and the rank combined with int8."""

    name: str
    description: str
    weights: Callable[[], ElmoWeights]
    ranks: Tuple[int, ...]
    int8_rank: int


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


def elmo_model() -> Model:
    options = elmo_options(512, 4096, filters=ELMO_FILTERS, num_highway=2)
    return Model(
        "elmo",
        "original ELMo dimensions (2 layers, cell 4096, projection 512, 2048 char filters, 2 highway), "
        "random weights",
        lambda: random_elmo_weights(options, seed=0),
        (32, 64, 128, 256),
        64,
    )


def demo_model() -> Model:
    return Model(
        "demo",
        "the demo biLM (2 layers, cell 256, projection 64), trained weights from elmo_compress/demo_bilm",
        lambda: ElmoWeights.load(
            os.path.join(DEMO_BUNDLE, "options.json"), os.path.join(DEMO_BUNDLE, "weights.hdf5")
        ),
        (8, 16, 32, 48),
        16,
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
    rank = model.int8_rank
    return [
        Setting("stock allennlp Elmo", loop="allennlp"),
        Setting("fast path dense"),
        Setting(f"fast SVD W_h r{rank}", target="recurrent", rank=rank),
        Setting("int8 dense, fast path", int8=True),
        Setting(f"int8 + SVD W_h r{rank}", target="recurrent", rank=rank, int8=True),
    ]


# ---------------------------------------------------------------- multiply-adds


def matrix_macs(rows: int, columns: int, rank: Optional[int]) -> int:
    """Multiply-adds of `x @ W^T` per input vector, W (rows x columns) dense or as rank-r factors."""
    return rows * columns if rank is None else rank * (rows + columns)


def lstm_macs_per_token(options: ElmoOptions, setting: Setting) -> int:
    """W_i, W_h and the projection of every layer and direction, per token."""
    gates, size = 4 * options.cell_dim, options.projection_dim
    input_rank = setting.rank if setting.target == "both" else None
    recurrent_rank = setting.rank if setting.target in ("recurrent", "both") else None
    cell = matrix_macs(gates, size, input_rank) + matrix_macs(gates, size, recurrent_rank)
    cell += options.cell_dim * size
    return 2 * options.num_layers * cell


def char_cnn_macs_per_token(options: ElmoOptions) -> int:
    """Convolutions over 50 characters, highway layers (each a Linear(F, 2F)) and the projection."""
    convolutions = sum(
        (MAX_CHARACTERS - width + 1) * width * options.char_embedding_dim * number
        for width, number in options.filters
    )
    filters = options.num_filters
    return convolutions + options.num_highway * filters * 2 * filters + filters * options.projection_dim


def mac_arithmetic(model: Model, options: ElmoOptions) -> str:
    """The multiply-add counts behind the ideal speed-ups, written out."""
    gates, size, cell = 4 * options.cell_dim, options.projection_dim, options.cell_dim
    cells = 2 * options.num_layers
    dense = lstm_macs_per_token(options, Setting("dense"))
    lines = [
        f"{model.name}: per token, per layer-direction ({cells} of them):",
        f"  W_i {gates}x{size}: {gates * size:,}   W_h {gates}x{size}: {gates * size:,}   "
        f"projection {size}x{cell}: {cell * size:,}",
        f"  dense biLSTM: {cells} x {gates * size * 2 + cell * size:,} = {dense:,} MACs/token",
        f"  a rank-r factor pair of a {gates}x{size} matrix costs r x ({gates} + {size}) = r x {gates + size:,}",
    ]
    for rank in model.ranks:
        for target in ("recurrent", "both"):
            macs = lstm_macs_per_token(options, Setting("", target=target, rank=rank))
            lines.append(
                f"  SVD {TARGET_LABELS[target]:8s} r{rank:<4d}: {macs:>12,} MACs/token, ideal {dense / macs:.2f}x"
            )
    char_side = char_cnn_macs_per_token(options)
    lines.append(f"  char CNN + highway + projection (whole biLM only): {char_side:,} MACs/token")
    lines.append("  int8 changes no MAC count: its ideal is that of the float row with the same factors.")
    return "\n".join(lines)


# ---------------------------------------------------------------- building the modules


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
    bilm = CompressedElmoBiLm(options_file, weight_file, compression=spec, fast_path=True, int8=setting.int8)
    return Elmo(None, None, 1, dropout=0.0, module=bilm)


# ---------------------------------------------------------------- timing


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


# ---------------------------------------------------------------- reporting


def table_rows(rows: List[Row]) -> List[List[str]]:
    stock, fast_dense = rows[0], next(row for row in rows if row.setting.label == "fast path dense")
    dense_macs = stock.macs
    lines = []
    for row in rows:
        over_stock = stock.median / row.median
        over_fast = fast_dense.median / row.median
        ideal = dense_macs / row.macs
        lines.append(
            [
                row.setting.label,
                f"{row.tokens_per_second:,.0f}",
                f"{row.median * 1000:.1f}",
                f"{over_stock:.2f}x",
                f"{over_fast:.2f}x",
                f"{row.macs / 1e6:.2f}M",
                f"{ideal:.2f}x",
                f"{over_stock / ideal:.2f}",
                f"{over_fast / ideal:.2f}",
                "" if row.int8_deviation is None else f"{row.int8_deviation:.4f}",
            ]
        )
    return lines


HEADERS = [
    "setting",
    "tokens/s",
    "ms/batch",
    "x stock",
    "x fast dense",
    "MACs/token",
    "ideal x (MACs)",
    "x stock / ideal",
    "x fast dense / ideal",
    "int8 deviation",
]


def find(rows: List[Row], label: str) -> Row:
    return next(row for row in rows if row.setting.label == label)


def target_lines(results: Dict[str, Dict[Tuple[int, int], List[Row]]]) -> List[str]:
    """The issue's speed targets, checked against this run's ELMo-dimension biLSTM rows."""
    lstm = results.get("elmo")
    if lstm is None:
        return ["(targets are defined on the ELMo dimensions, which this run left out)"]
    lines = []
    for shape, needed in (((32, 40), 1.3), ((1, 20), 2.0)):
        rows = lstm[shape]
        speedup = find(rows, "stock allennlp ElmoLstm").median / find(rows, "fast path dense").median
        verdict = "met" if speedup >= needed else f"MISSED by {needed - speedup:.2f}x"
        lines.append(
            f"- fast dense >= {needed}x stock at batch {shape[0]} x {shape[1]}: {speedup:.2f}x, {verdict}"
        )
    for shape in SHAPES:
        rows = lstm[shape]
        row = find(rows, "fast SVD W_h r64")
        measured = find(rows, "fast path dense").median / row.median
        share = measured / (rows[0].macs / row.macs)
        verdict = "met" if share >= 0.8 else f"MISSED by {0.8 - share:.2f}"
        lines.append(
            f"- W_h-only rank 64 >= 0.8 of its ideal MAC speed-up over fast dense, "
            f"batch {shape[0]} x {shape[1]}: "
            f"{measured:.2f}x of ideal {rows[0].macs / row.macs:.2f}x = {share:.2f}, {verdict}"
        )
    for shape in SHAPES:
        rows = lstm[shape]
        int8 = find(rows, "int8 dense, fast path").median
        for target in ("W_h", "W_i+W_h"):
            combined = find(rows, f"int8 + SVD {target} r64").median
            verdict = "met" if combined < int8 else f"MISSED ({combined / int8:.2f}x the time)"
            lines.append(
                f"- int8 + SVD {target} r64 faster than int8 dense at batch {shape[0]} x {shape[1]}: "
                f"{int8 / combined:.2f}x, {verdict}"
            )
    return lines


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_lines(
    threads: int, repeats: int, load_before: Tuple[float, ...], load_after: Tuple[float, ...]
) -> List[str]:
    return [
        f"- date: {datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}",
        f"- machine: {cpu_name()}, {os.cpu_count()} logical CPUs visible, "
        f"{platform.system()} {platform.release()}",
        f"- torch {torch.__version__}, `torch.set_num_threads({threads})`, "
        f"quantized engine {torch.backends.quantized.engine}",
        f"- load average (1, 5, 15 min) before: {', '.join(f'{x:.2f}' for x in load_before)}; "
        f"after: {', '.join(f'{x:.2f}' for x in load_after)}",
        f"- each number: median of {repeats} interleaved repeats (one warm-up round), float32, `torch.no_grad()`,"
        " every sentence full length, stateful modules as in allennlp",
    ]


NOTES = """## How to read this

- **x stock** is the measured speed-up over allennlp's own module in the same run; **x fast dense** over
  the fast path without compression. **ideal x (MACs)** is dense multiply-adds per token over the row's
  multiply-adds (stock and fast dense do the same multiply-adds, so the fast path's gain is not a MAC
  effect: it is the input matrix applied once to all timesteps as one large product instead of one
  small product per timestep, and no per-step state copies). The ratio columns are measured / ideal.
- **int8 deviation** is max |int8 output - float output| / max |float output| on the benchmark input,
  against the float fast path with the same factors. biLSTM rows feed N(0, 1) vectors straight into the
  biLSTM (not what a character CNN produces); whole-biLM rows compare the ELMo representation computed
  from the character CNN (made-up words). The test suite bounds it on allennlp's toy biLM and real
  sentences (< 0.05, measured 0.008-0.016). Dynamic quantization uses one activation scale per call, and
  the fast path's input product sees all timesteps in one call, so its error can exceed the loop's.
- At batch 1 each timestep multiplies a vector by W_h and the projection, which is bound by reading the
  weights from memory, not by multiply-adds; hoisting W_i out of the loop removes a third of those
  reads, and low rank removes most of the rest, so measured speed-ups there can exceed the MAC ideal.
- int8 keeps the MAC count but reads a quarter of the weight bytes and uses int8 dot products (VNNI
  where the CPU has it); its ideal column is that of the float row with the same factors.
- Whole-biLM rows include the character CNN, the highway layers and the projection, which compression
  does not touch (Amdahl's law caps those rows).
"""


def model_section(
    model: Model,
    options: ElmoOptions,
    lstm: Dict[Tuple[int, int], List[Row]],
    bilm: Dict[Tuple[int, int], List[Row]],
) -> List[str]:
    lines = [f"## {model.name}: {model.description}", "", "```", mac_arithmetic(model, options), "```", ""]
    for (batch_size, length), rows in lstm.items():
        lines += [
            f"### biLSTM only, batch {batch_size} x {length} tokens",
            "",
            format_markdown_table(HEADERS, table_rows(rows)),
            "",
        ]
    for (batch_size, length), rows in bilm.items():
        lines += [
            f"### whole biLM (allennlp `Elmo`: char CNN + biLSTM + scalar mix), "
            f"batch {batch_size} x {length} tokens",
            "",
            format_markdown_table(HEADERS, table_rows(rows)),
            "",
        ]
    return lines


def plot_speedups(results: Dict[str, Dict[Tuple[int, int], List[Row]]], path: str) -> None:
    pyplot = plotting.pyplot()

    names = list(results)
    figure, axes = pyplot.subplots(len(names), len(SHAPES), figsize=(13, 6 * len(names)), squeeze=False)
    for axis, (name, shape) in zip(axes.flat, [(name, shape) for name in names for shape in SHAPES]):
        rows = results[name][shape]
        labels = [row.setting.label for row in rows]
        measured = [rows[0].median / row.median for row in rows]
        ideal = [rows[0].macs / row.macs for row in rows]
        positions = list(range(len(rows)))
        axis.barh(positions, measured, color="tab:blue", label="measured")
        axis.scatter(ideal, positions, color="black", marker="|", s=200, zorder=3, label="ideal from MACs")
        axis.axvline(1.0, color="gray", linestyle="--", linewidth=1)
        axis.set_yticks(positions)
        axis.set_yticklabels(labels)
        axis.invert_yaxis()
        axis.set_xlabel("speed-up over stock allennlp ElmoLstm (x)")
        axis.set_title(f"{name} biLSTM, batch {shape[0]} x {shape[1]}")
        axis.grid(True, axis="x", alpha=0.3)
    axes.flat[0].legend(loc="lower right")
    figure.suptitle(f"biLSTM tokens/s relative to stock allennlp, {torch.get_num_threads()} CPU threads")
    figure.tight_layout()
    plotting.save_png(figure, path, dpi=100)


def run_speed_benchmark(
    models: Sequence[str] = ("elmo", "demo"),
    threads: int = 2,
    repeats: int = 3,
    whole_bilm: Sequence[str] = ("demo",),
    markdown_path: str = os.path.join("docs", "speed.md"),
    plot_path: str = os.path.join("docs", "images", "speed_cpu.png"),
) -> Dict[str, Dict[Tuple[int, int], List[Row]]]:
    """Time every row, print the tables, write the Markdown report and the plot."""
    torch.set_num_threads(threads)
    load_before = os.getloadavg()
    lstm_results, sections = {}, []
    for name in models:
        model = MODELS[name]()
        dense = model.weights()
        lstm_results[name] = time_lstm(model, dense, repeats)
        bilm = time_bilm(model, dense, repeats) if name in whole_bilm else {}
        sections += model_section(model, dense.options, lstm_results[name], bilm)
        print(mac_arithmetic(model, dense.options))
        for (batch_size, length), rows in {**lstm_results[name]}.items():
            print(f"\n{name} biLSTM, batch {batch_size} x {length}")
            print(format_table(HEADERS, table_rows(rows)))
        for (batch_size, length), rows in bilm.items():
            print(f"\n{name} whole biLM, batch {batch_size} x {length}")
            print(format_table(HEADERS, table_rows(rows)))
    load_after = os.getloadavg()
    targets = target_lines(lstm_results)
    print("\n" + "\n".join(targets))
    command = (
        f"compress-elmo benchmark --threads {threads} --repeats {repeats} --models {' '.join(models)} "
        f"--whole-bilm {' '.join(whole_bilm)}"
    )
    lines = ["# CPU speed of the fast path, low rank and int8", "", f"Made by `{command}`.", ""]
    lines += machine_lines(threads, repeats, load_before, load_after) + [""]
    lines += ["## Targets (ELMo dimensions, biLSTM)", ""] + targets + [""]
    lines += [f"![speed-ups]({os.path.relpath(plot_path, os.path.dirname(markdown_path) or '.')})", ""]
    lines += sections + [NOTES]
    os.makedirs(os.path.dirname(plot_path) or ".", exist_ok=True)
    plot_speedups(lstm_results, plot_path)
    with atomic_output(markdown_path) as temporary:
        with open(temporary, "w", encoding="utf-8") as report:
            report.write("\n".join(lines))
    print(f"\nwrote {markdown_path} and {plot_path}")
    return lstm_results


def add_subparser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "benchmark",
        description="Time the biLSTM on CPU: stock allennlp, the fast path dense, with SVD of W_h or W_i+W_h "
        "at several ranks, int8 and low rank + int8, at batch 1 x 20 and 32 x 40 tokens, on the original "
        "ELMo dimensions (random weights) and the demo biLM; write a Markdown report and a PNG plot.",
        help="CPU speed benchmark of the fast path, low rank and int8",
    )
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default: 2)")
    parser.add_argument(
        "--repeats", type=int, default=3, help="timed repeats per row, median reported (default: 3)"
    )
    parser.add_argument(
        "--models", nargs="+", choices=sorted(MODELS), default=["elmo", "demo"], help="which biLMs (default: both)"
    )
    parser.add_argument(
        "--whole-bilm",
        nargs="*",
        choices=sorted(MODELS),
        default=["demo"],
        help="models also timed as a whole allennlp Elmo, character CNN included (default: demo; the ELMo-size "
        "one writes and loads a 370 MB weights file per row)",
    )
    parser.add_argument(
        "--markdown", default=os.path.join("docs", "speed.md"), help="report path (default: docs/speed.md)"
    )
    parser.add_argument(
        "--plot",
        default=os.path.join("docs", "images", "speed_cpu.png"),
        help="plot path (default: docs/images/speed_cpu.png)",
    )
    parser.set_defaults(func=run_benchmark)
    return parser


def run_benchmark(args: argparse.Namespace) -> None:
    run_speed_benchmark(args.models, args.threads, args.repeats, args.whole_bilm, args.markdown, args.plot)
