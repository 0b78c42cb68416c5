"""
`compress-elmo demo`: the end-to-end job of `make demo`. Takes the demo biLM shipped in the package
(trained by `compress-elmo pretrain` on the embedded corpus, see elmo_compress/demo_bilm/README.md),
compresses it with every method and target at several ranks, and reports parameters, relative
reconstruction error and held-out perplexity, plus the perplexity after a short fine-tune of one
setting. Writes the table as Markdown and CSV and a plot of perplexity against rank. Then writes
the matrix analysis of the biLM (`compress-elmo analyze`) and, unless told not to, trains one
downstream task on the demo task data and sweeps it (`commands/demo_downstream.py`).
"""

import argparse
import csv
import os
from dataclasses import asdict, dataclass
from typing import Dict, List, Optional, Sequence

import torch
from allennlp.modules.elmo import _ElmoBiLm, batch_to_ids

from elmo_compress import plotting
from elmo_compress.atomic import atomic_output
from elmo_compress.commands.analyze import write_analysis
from elmo_compress.commands.demo_downstream import DEMO_TASKS, run_downstream_demo
from elmo_compress.commands.language_model import default_split
from elmo_compress.commands.table import format_markdown_table, format_table
from elmo_compress.factorize import METHODS, CompressionSpec
from elmo_compress.lm import evaluate_perplexity, finetune, load_lm
from elmo_compress.lm.bundle import DEMO_BUNDLE, OPTIONS_NAME, WEIGHTS_NAME, bundle_path
from elmo_compress.modules import weights_from_bilm
from elmo_compress.weights import TARGETS, ElmoOptions

Sentences = Sequence[List[str]]

DEMO_TARGETS = ("input", "recurrent", "both")
DEMO_RANKS = (8, 16, 32, 48)
FINETUNE_RANK = 16
CSV_NAME = "lm_compression.csv"


def add_subparser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "demo",
        description="Compress the shipped demo biLM every way and report parameters, reconstruction "
        "error and held-out perplexity (Markdown, CSV and PNG in OUTPUT_DIR).",
        help="run the end-to-end demo",
    )
    parser.add_argument("--output-dir", default="demo_output", help="where files go (default: demo_output)")
    parser.add_argument("--bundle", default=DEMO_BUNDLE, help="biLM bundle (default: the shipped demo biLM)")
    parser.add_argument("--ranks", type=int, nargs="+", default=list(DEMO_RANKS), help="ranks to try")
    parser.add_argument("--finetune-steps", type=int, default=150, help="fine-tune steps (default: 150)")
    parser.add_argument(
        "--finetune-rank",
        type=int,
        default=FINETUNE_RANK,
        help=f"fine-tune SVD on both targets at this rank (default: {FINETUNE_RANK})",
    )
    parser.add_argument(
        "--held-out-sentences",
        type=int,
        default=300,
        help="evaluate on the first N held-out sentences, 0 for all (default: 300)",
    )
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")
    parser.add_argument(
        "--downstream-task",
        choices=[*DEMO_TASKS, "none"],
        default="sentiment",
        help="downstream task to train on the demo data and sweep (default: sentiment; none: skip)",
    )
    parser.add_argument(
        "--downstream-ranks", type=int, nargs="+", default=[8, 16, 32], help="sweep ranks (default: 8 16 32)"
    )
    parser.add_argument("--downstream-epochs", type=int, default=15, help="training epochs (default: 15)")
    parser.set_defaults(func=run_demo)
    return parser


@dataclass
class DemoRow:
    method: str
    target: str
    rank: Optional[float]
    lstm_matrix_parameters: int
    bilm_parameters: int
    mean_relative_error: float
    perplexity_forward: float
    perplexity_backward: float
    perplexity_mean: float
    finetune_steps: int = 0


def _row(
    spec: Optional[CompressionSpec],
    bundle: str,
    held_out: Sentences,
    finetune_steps: int = 0,
    train: Sentences = (),
) -> DemoRow:
    """Compress the bundle's biLM as `spec` says (None: not at all), optionally fine-tune, measure."""
    lm, vocabulary = load_lm(bundle, compression=spec, requires_grad=finetune_steps > 0)
    if finetune_steps:
        finetune(lm, train, vocabulary, finetune_steps)
    weights = weights_from_bilm(lm.bilm, ElmoOptions.from_file(bundle_path(bundle, OPTIONS_NAME)))
    errors = [report.relative_error for report in lm.bilm.compression_report if report.method != "dense"]
    perplexity = evaluate_perplexity(lm, held_out, vocabulary)
    return DemoRow(
        method=spec.method if spec else "none",
        target=spec.target if spec else "-",
        rank=spec.rank.value if spec else None,
        lstm_matrix_parameters=sum(
            weights.matrix(layer, direction, target).num_parameters()
            for layer, direction in weights.cells()
            for target in TARGETS
        ),
        bilm_parameters=weights.num_parameters(),
        mean_relative_error=sum(errors) / len(errors) if errors else 0.0,
        perplexity_forward=perplexity.forward,
        perplexity_backward=perplexity.backward,
        perplexity_mean=perplexity.mean,
        finetune_steps=finetune_steps,
    )


def _check_against_allennlp(bundle: str, sentences: Sequence[List[str]]) -> float:
    """Max |difference| of our uncompressed biLM and allennlp's own on the same batch."""
    lm, _ = load_lm(bundle)
    allennlp_bilm = _ElmoBiLm(bundle_path(bundle, OPTIONS_NAME), bundle_path(bundle, WEIGHTS_NAME))
    character_ids = batch_to_ids(list(sentences))
    with torch.no_grad():
        ours, theirs = lm.bilm(character_ids)["activations"], allennlp_bilm(character_ids)["activations"]
    return max(float((a - b).abs().max()) for a, b in zip(ours, theirs))


def run_demo(args: argparse.Namespace) -> None:
    if args.threads:
        torch.set_num_threads(args.threads)
    train, held_out = default_split()
    if args.held_out_sentences:
        held_out = held_out[: args.held_out_sentences]
    tokens = sum(len(sentence) for sentence in held_out)
    print(f"demo biLM: {args.bundle}; held-out: {len(held_out)} sentences, {tokens} tokens, embedded corpus")
    difference = _check_against_allennlp(args.bundle, held_out[:32])
    print(f"uncompressed path vs allennlp _ElmoBiLm, max abs difference: {difference:.2e}")
    rows = [_row(None, args.bundle, held_out)]
    for method in METHODS:
        for target in DEMO_TARGETS:
            for rank in args.ranks:
                spec = CompressionSpec.from_dict({"method": method, "target": target, "rank": rank})
                rows.append(_row(spec, args.bundle, held_out))
                print(_describe(rows[-1]), flush=True)
    if args.finetune_steps:
        spec = CompressionSpec.from_dict({"method": "svd", "target": "both", "rank": args.finetune_rank})
        rows.append(_row(spec, args.bundle, held_out, args.finetune_steps, train))
    write_outputs(rows, args.output_dir)
    analysis_dir = os.path.join(args.output_dir, "analysis")
    options_file, weight_file = bundle_path(args.bundle, OPTIONS_NAME), bundle_path(args.bundle, WEIGHTS_NAME)
    write_analysis(options_file, weight_file, analysis_dir, sweep_csv=os.path.join(args.output_dir, CSV_NAME))
    print(f"wrote the matrix analysis of the demo biLM to {analysis_dir} (see docs/analysis.md)")
    if args.downstream_task != "none":
        run_downstream_demo(args.downstream_task, args.output_dir, args.downstream_ranks, args.downstream_epochs)


def _describe(row: DemoRow) -> str:
    return f"{row.method} {row.target} rank {row.rank}: perplexity {row.perplexity_mean:.1f}"


HEADERS = [
    "method",
    "target",
    "rank",
    "fine-tune steps",
    "LSTM W params",
    "biLM params",
    "mean rel. error",
    "ppl fwd",
    "ppl bwd",
    "ppl mean",
]


def _cells(row: DemoRow, dense_lstm: int) -> List[object]:
    return [
        row.method,
        row.target,
        "-" if row.rank is None else row.rank,
        row.finetune_steps,
        f"{row.lstm_matrix_parameters:,} ({row.lstm_matrix_parameters / dense_lstm:.0%})",
        f"{row.bilm_parameters:,}",
        f"{row.mean_relative_error:.3f}",
        f"{row.perplexity_forward:.1f}",
        f"{row.perplexity_backward:.1f}",
        f"{row.perplexity_mean:.1f}",
    ]


def write_outputs(rows: List[DemoRow], output_dir: str) -> None:
    os.makedirs(output_dir, exist_ok=True)
    dense_lstm = rows[0].lstm_matrix_parameters
    cells = [_cells(row, dense_lstm) for row in rows]
    print(format_table(HEADERS, cells))
    markdown_path = os.path.join(output_dir, "lm_compression.md")
    with atomic_output(markdown_path) as temporary:
        with open(temporary, "w", encoding="utf-8") as markdown:
            markdown.write(format_markdown_table(HEADERS, cells) + "\n")
    csv_path = os.path.join(output_dir, CSV_NAME)
    with atomic_output(csv_path) as temporary:
        with open(temporary, "w", encoding="utf-8", newline="") as table:
            records = [_csv_record(row, rows[0].perplexity_mean) for row in rows]
            writer = csv.DictWriter(table, fieldnames=list(records[0]))
            writer.writeheader()
            writer.writerows(records)
    plot_path = os.path.join(output_dir, "perplexity_vs_rank.png")
    plot_perplexity(rows, plot_path)
    print(f"wrote {markdown_path}, {csv_path}, {plot_path}")


def _csv_record(row: DemoRow, baseline: float) -> Dict[str, object]:
    """The row's fields plus the sweep columns `compress-elmo analyze --sweep` reads."""
    metric = {"metric_name": "perplexity_mean", "metric": row.perplexity_mean}
    return {**asdict(row), **metric, "metric_drop": row.perplexity_mean - baseline}


TITLES = {"input": "W_i (input) compressed", "recurrent": "W_h (recurrent) compressed", "both": "W_i and W_h"}


def plot_perplexity(rows: List[DemoRow], path: str) -> None:
    from matplotlib import ticker

    pyplot = plotting.pyplot()

    baseline = rows[0].perplexity_mean
    figure, axes = pyplot.subplots(1, len(DEMO_TARGETS), figsize=(13, 4.2), sharey=True)
    for axis, target in zip(axes, DEMO_TARGETS):
        for method in METHODS:
            points = sorted(
                (row.rank, row.perplexity_mean)
                for row in rows
                if row.method == method and row.target == target and row.finetune_steps == 0
            )
            axis.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=method)
        axis.axhline(baseline, color="gray", linestyle="--", label="uncompressed")
        axis.set_title(TITLES[target])
        axis.set_xlabel("rank (prune: same parameter count)")
        axis.set_yscale("log")
        axis.yaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:.0f}"))
        axis.yaxis.set_minor_formatter(ticker.FuncFormatter(lambda value, _: f"{value:.0f}"))
        axis.set_xticks(sorted({row.rank for row in rows if row.target == target}))
        axis.grid(True, alpha=0.3)
    axes[0].set_ylabel("held-out perplexity (log scale)")
    axes[-1].legend()
    figure.suptitle("Demo biLM: held-out perplexity after compression, by rank")
    figure.tight_layout()
    plotting.save_png(figure, path)
