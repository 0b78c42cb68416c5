"""
The speed report: tables (speed-up over stock allennlp measured in the same run, ideal speed-up from
multiply-adds, deviation from stock, int8 deviation, cache hit rate, demo perplexity at the same relative
rank), the machine, the load, the targets; `run_speed_benchmark` runs it all and writes `speed.md`,
`speed.png`, `speed.json` (and `perplexities.json`, the perplexity cache) as one set.
"""

import datetime
import os
from typing import Dict, List, Optional, Sequence, Tuple

import torch

from elmo_compress.benchmark.macs import mac_arithmetic
from elmo_compress.benchmark.models import MODELS, Model, RunningText
from elmo_compress.benchmark.perplexity import PERPLEXITY_NAME, DemoPerplexities, check_recipe
from elmo_compress.benchmark.results import SCOPE_TITLES, plot_speedups, write_speed_json
from elmo_compress.benchmark.targets import PPL_LIMIT, Results, bilstm_targets, whole_bilm_targets
from elmo_compress.benchmark.timing import WARM_TOKENS, Row, time_bilm, time_lstm
from elmo_compress.constants import DEFAULT_CHAR_CACHE
from elmo_compress.data import default_split
from elmo_compress.errors import ElmoCompressError
from elmo_compress.outputs import OutputFolder, write_text
from elmo_compress.reporting.tables import format_markdown_table, format_table
from elmo_compress.runtime import describe_machine

MARKDOWN_NAME, PLOT_NAME, JSON_NAME = "speed.md", "speed.png", "speed.json"

HEADERS = [
    "setting",
    "tokens/s",
    "ms/batch",
    "x stock",
    "x fast dense",
    "MACs/token",
    "ideal x (MACs)",
    "x stock / ideal",
    "deviation from stock",
    "int8 deviation",
    "cache hit rate",
    "x ppl (demo)",
]


def _optional(value: Optional[float], form: str) -> str:
    return "" if value is None else format(value, form)


def table_rows(rows: List[Row]) -> List[List[str]]:
    stock, fast_dense = rows[0], next(row for row in rows if row.setting.label == "fast path dense")
    lines = []
    for row in rows:
        over_stock, ideal = stock.median / row.median, stock.macs / row.macs
        lines.append(
            [
                row.setting.label,
                f"{row.tokens_per_second:,.0f}",
                f"{row.median * 1000:.1f}",
                f"{over_stock:.2f}x",
                f"{fast_dense.median / row.median:.2f}x",
                f"{row.macs / 1e6:.2f}M",
                f"{ideal:.2f}x",
                f"{over_stock / ideal:.2f}",
                f"{row.deviation:.2g}",
                _optional(row.int8_deviation, ".4f"),
                _optional(row.hit_rate, ".1%"),
                _optional(row.ppl_ratio, ".3f"),
            ]
        )
    return lines


def machine_header(
    threads: int, repeats: int, load: Tuple[Tuple[float, ...], Tuple[float, ...]]
) -> Dict[str, object]:
    machine = describe_machine()
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine.as_dict(),
        "blas": machine.blas_line(),
        "threads": threads,
        "torch_version": torch.__version__,
        "repeats": repeats,
        "load_average_before": list(load[0]),
        "load_average_after": list(load[1]),
    }


def machine_lines(header: Dict[str, object]) -> List[str]:
    machine = header["machine"]
    return [
        f"- date: {header['date']}",
        f"- machine: {machine['cpu_vendor']} {machine['cpu_model']}, {machine['logical_cpus']} logical CPUs",
        f"- torch {header['torch_version']}, `torch.set_num_threads({header['threads']})`, "
        f"quantized engine {machine['quantized_engine']}",
        f"- {header['blas']}",
        f"- load average (1, 5, 15 min) before: {', '.join(f'{x:.2f}' for x in header['load_average_before'])}; "
        f"after: {', '.join(f'{x:.2f}' for x in header['load_average_after'])}",
        f"- each number: median of {header['repeats']} interleaved repeats (one warm-up round), float32, "
        "`torch.no_grad()`, every sentence full length, stateful modules as in allennlp",
    ]


def text_line() -> str:
    return (
        "Whole-biLM rows read running text: the embedded corpus's training split (English sentences from "
        "Python's documentation) as one token stream, cut into consecutive windows of 20 or 40 tokens (a "
        "batch: consecutive windows). The cached rows (least-recently-used cache of "
        f"{DEFAULT_CHAR_CACHE:,} tokens) first encode the {WARM_TOKENS:,} tokens before the timed text; each "
        "round then times every row on the next batch, which no row has seen; **cache hit rate** is the share "
        "of token rows (`<S>` and `</S>` included) of the timed batches whose character CNN did not run."
    )


def perplexity_line(perplexities: Optional[DemoPerplexities]) -> str:
    if perplexities is None:
        return "Perplexities: not computed (`--perplexity-recipe none`)."
    baseline = perplexities.perplexity(perplexities.baseline)
    return (
        "**x ppl (demo)**: held-out perplexity of the demo biLM compressed at the same relative rank "
        "(ELMo rank r of 512 -> demo rank r/8 of 64; the demo biLM's own rows at their own rank) with the "
        f"`{perplexities.recipe}` recipe and run the same way (int8, fast path; the character encoder float "
        "where the row caches it), over the uncompressed demo biLM's "
        f"({baseline:.2f}), on {len(perplexities.held_out)} held-out sentences of the embedded corpus "
        f"({perplexities.reused} of {len(perplexities.entries)} perplexities reused from `{PERPLEXITY_NAME}`)."
    )


def model_section(model: Model, options, results: Dict[str, Dict[Tuple[int, int], List[Row]]]) -> List[str]:
    lines = [f"## {model.name}: {model.description}", "", "```", mac_arithmetic(model, options), "```", ""]
    for scope, shapes in results.items():
        for (batch_size, length), rows in shapes.items():
            what = " (characters in, three layers out)" if scope == "whole_bilm" else " only"
            title = SCOPE_TITLES[scope] + what
            lines += [f"### {title}, batch {batch_size} x {length} tokens", ""]
            lines += [format_markdown_table(HEADERS, table_rows(rows)), ""]
    return lines


NOTES = """## How to read this

- **x stock** is the measured speed-up over allennlp's own module (`ElmoLstm`, or `_ElmoBiLm` for the
  whole biLM) in the same run; **x fast dense** over the fast path without compression. **ideal x
  (MACs)** is stock multiply-adds per token over the row's (stock and fast dense do the same
  multiply-adds, so the fast path's gain is not a MAC effect: it is the input matrix applied once to all
  timesteps as one large product, and no per-step state copies). With the cache, the character CNN's
  multiply-adds count only for the token rows it encoded (1 - hit rate).
- **deviation from stock** is max |output - stock output| / max |stock output| (biLSTM: its output on
  N(0, 1) inputs; whole biLM: the three layers on the timed text, states reset). At ELMo dimensions the
  weights are random, whose spectra are flat, so SVD rows deviate a lot there: read the cost of low rank
  in **x ppl (demo)**, measured on trained weights. **int8 deviation** is the same measure against the
  float fast path with the same factors.
- At batch 1 each timestep multiplies a vector by W_h and the projection, which is bound by reading the
  weights from memory, not by multiply-adds, so measured speed-ups there can exceed the MAC ideal.
- int8 keeps the MAC count but reads a quarter of the weight bytes and uses int8 dot products; with the
  character cache, int8 quantizes the LSTM only (the character encoder stays float, so that a cached
  vector does not depend on its batch: `RuntimeOptions.int8`).
- Whole-biLM rows without the cache include the character CNN, the highway layers and the projection,
  which compression does not touch (Amdahl's law caps those rows; the cache removes most of that part).
"""


def run_speed_benchmark(
    output_dir: str,
    models: Sequence[str] = ("elmo", "demo"),
    threads: int = 2,
    repeats: int = 3,
    whole_bilm: Sequence[str] = ("elmo", "demo"),
    force: bool = False,
    perplexity_recipe: str = "svd",
    perplexity_sentences: Optional[int] = None,
) -> Results:
    """Time every row, print the tables, write speed.md, speed.png and speed.json into `output_dir` as a set."""
    check_recipe(perplexity_recipe)
    unknown = sorted(set(models) - set(MODELS)) + sorted(set(whole_bilm) - set(MODELS))
    if unknown or perplexity_sentences is not None and perplexity_sentences < 1:
        message = f"unknown model {unknown[0]!r}" if unknown else "perplexity sentences must be >= 1"
        raise ElmoCompressError(message)
    names = (MARKDOWN_NAME, PLOT_NAME, JSON_NAME, PERPLEXITY_NAME)
    output = OutputFolder(output_dir, names=names, force=force)
    with output:
        torch.set_num_threads(threads)
        load_before = os.getloadavg()
        train, held_out = default_split()
        results: Results = {}
        options = {}
        for name in dict.fromkeys(list(models) + list(whole_bilm)):
            model = MODELS[name]()
            dense = model.weights()
            options[name] = (model, dense.options)
            if name in models:
                results.setdefault(name, {})["bilstm"] = time_lstm(model, dense, repeats)
            if name in whole_bilm:
                results.setdefault(name, {})["whole_bilm"] = time_bilm(model, dense, repeats, RunningText(train))
            del dense
        load_after = os.getloadavg()
        perplexities = None
        if perplexity_recipe != "none":
            perplexities = DemoPerplexities(
                perplexity_recipe, held_out[:perplexity_sentences], output.final_path(PERPLEXITY_NAME)
            )
            for name, scopes in results.items():
                for rows in (row for shapes in scopes.values() for row in shapes.values()):
                    for row in rows:
                        row.ppl_ratio = perplexities.ratio(row.setting, options[name][1].projection_dim)
        header = machine_header(threads, repeats, (load_before, load_after))
        header["command"] = command_line(
            output_dir, threads, repeats, models, whole_bilm, perplexity_recipe, perplexity_sentences
        )
        header["text"] = text_line()
        header["perplexity"] = None if perplexities is None else {
            "recipe": perplexity_recipe,
            "held_out_sentences": len(perplexities.held_out),
            "uncompressed": perplexities.perplexity(perplexities.baseline),
            "limit": PPL_LIMIT,
        }
        targets = whole_bilm_targets(results) + bilstm_targets(results)
        header["targets"] = targets
        for name, scopes in results.items():
            print(mac_arithmetic(*options[name]))
            for scope, shapes in scopes.items():
                for (batch_size, length), rows in shapes.items():
                    print(f"\n{name} {SCOPE_TITLES[scope]}, batch {batch_size} x {length}")
                    print(format_table(HEADERS, table_rows(rows)))
        print("\n" + "\n".join(targets))
        lines = ["# CPU speed: the fast path, low rank, int8 and the character cache", ""]
        lines += [f"Made by `{header['command']}`.", ""] + machine_lines(header) + [""]
        lines += ["## Targets", "", "Whole biLM at ELMo dimensions (issue 13):", ""] + whole_bilm_targets(results)
        lines += ["", "biLSTM at ELMo dimensions (the fast path):", ""] + bilstm_targets(results) + [""]
        lines += [text_line(), "", perplexity_line(perplexities), "", f"![speed-ups]({PLOT_NAME})", ""]
        for name, scopes in results.items():
            lines += model_section(options[name][0], options[name][1], scopes)
        lines.append(NOTES)
        plot_speedups(results, output.path(PLOT_NAME))
        write_text(output.path(MARKDOWN_NAME), "\n".join(lines))
        write_speed_json(output.path(JSON_NAME), header, results)
        if perplexities is not None:
            perplexities.write(output.path(PERPLEXITY_NAME))
    print(f"\nwrote {', '.join(os.path.join(output_dir, name) for name in names[:3])}")
    return results


def command_line(
    output_dir: str,
    threads: int,
    repeats: int,
    models: Sequence[str],
    whole_bilm: Sequence[str],
    recipe: str,
    sentences: Optional[int],
) -> str:
    command = (
        f"compress-elmo benchmark -o {output_dir} --threads {threads} --repeats {repeats} "
        f"--models {' '.join(models)} --whole-bilm {' '.join(whole_bilm)} --perplexity-recipe {recipe}"
    )
    return command + ("" if sentences is None else f" --perplexity-sentences {sentences}")
