"""
`compress-elmo archive`: compress the ELMo of a trained allennlp archive post-training and write a
new archive that `allennlp evaluate` / `predict` load with `--include-package elmo_compress`.
`compress-elmo sweep`: evaluate a trained archive uncompressed and compressed every way on one
evaluation file, writing CSV, Markdown and plots.
"""

import argparse
import os
from typing import List, Tuple

from allennlp.data import Instance
from allennlp.models.archival import Archive

from elmo_compress.commands.compress import add_spec_arguments, spec_from_args
from elmo_compress.commands.table import format_table
from elmo_compress.downstream.archive import compress_archive, load_model_archive
from elmo_compress.downstream.report import (
    plot_metric_vs_parameters,
    plot_metric_vs_rank,
    sweep_markdown,
    write_markdown,
)
from elmo_compress.downstream.sweep import Setting, read_instances, run_sweep, settings, validation_metric
from elmo_compress.factorize import METHODS, TARGET_CHOICES

SWEEP_FILES = ("sweep.csv", "sweep.md", "metric_vs_rank.png", "metric_vs_parameters.png")


def add_subparser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    archive = subparsers.add_parser(
        "archive",
        description="Compress the ELMo of a trained model.tar.gz (trained with plain ELMo) and write a new "
        "archive whose config uses compressed_elmo (bcn: bcn_compressed_elmo) and whose weights hold the "
        "factors. Load it with allennlp evaluate/predict --include-package elmo_compress.",
        help="compress the ELMo inside a trained allennlp archive",
    )
    archive.add_argument("archive_file", help="trained allennlp archive (model.tar.gz)")
    archive.add_argument("-o", "--output-file", required=True, help="the compressed archive to write")
    add_spec_arguments(archive)
    archive.set_defaults(func=run_archive)

    sweep = subparsers.add_parser(
        "sweep",
        description="Evaluate a trained archive uncompressed and with every method x target x rank on "
        "EVALUATION_FILE; write sweep.csv (resumable: rows already there are skipped), sweep.md and "
        "metric_vs_rank.png / metric_vs_parameters.png to OUTPUT_DIR.",
        help="accuracy of a trained archive under every compression",
    )
    sweep.add_argument("archive_file", help="trained allennlp archive (model.tar.gz)")
    sweep.add_argument("evaluation_file", help="data in the format of the archive's validation reader")
    sweep.add_argument("-o", "--output-dir", required=True, help="folder for the CSV, Markdown and PNGs")
    sweep.add_argument("--methods", nargs="*", choices=METHODS, default=list(METHODS), help="(default: all)")
    sweep.add_argument(
        "--targets", nargs="*", choices=TARGET_CHOICES, default=list(TARGET_CHOICES), help="(default: all)"
    )
    sweep.add_argument("--ranks", nargs="*", type=int, required=True, help="ranks to try, e.g. 16 32 64")
    sweep.add_argument("--metric", help="+NAME or -NAME (default: the archive's trainer validation_metric)")
    sweep.add_argument("--batch-size", type=int, default=32, help="evaluation batch size (default: 32)")
    sweep.add_argument(
        "--allennlp-loop",
        action="store_true",
        help="run ELMo's biLSTM with allennlp's timestep loop instead of the fast path (the default)",
    )
    sweep.set_defaults(func=run_sweep_command)
    return archive


def run_archive(args: argparse.Namespace) -> None:
    spec = spec_from_args(args)
    reports = compress_archive(args.archive_file, spec, args.output_file)
    rows = [
        [f"layer {r.layer} {r.direction} {r.target}", r.method, r.rank, f"{r.relative_error:.4f}"]
        for r in reports
        if r.method != "dense"
    ]
    print(format_table(["matrix", "method", "rank", "rel. error"], rows))
    print(f"wrote {args.output_file}")


def sweep_into(
    output_dir: str,
    archive: Archive,
    instances: List[Instance],
    planned: List[Setting],
    metric: Tuple[str, bool],
    batch_size: int = 32,
    fast_path: bool = True,
) -> None:
    """Run (or resume) the sweep with its CSV in `output_dir`, write the table and plots, print the table."""
    os.makedirs(output_dir, exist_ok=True)
    csv_path, markdown_path, rank_plot, parameter_plot = (os.path.join(output_dir, name) for name in SWEEP_FILES)
    rows = run_sweep(archive, instances, planned, csv_path, metric, batch_size, fast_path)
    write_markdown(rows, markdown_path)
    plot_metric_vs_rank(rows, rank_plot)
    plot_metric_vs_parameters(rows, parameter_plot)
    print(sweep_markdown(rows))
    print(f"wrote {csv_path}, {markdown_path}, {rank_plot}, {parameter_plot}")


def run_sweep_command(args: argparse.Namespace) -> None:
    planned = settings(args.methods, args.targets, args.ranks)
    archive = load_model_archive(args.archive_file)
    metric = validation_metric(archive, args.metric)
    instances = read_instances(archive, args.evaluation_file)
    sweep_into(args.output_dir, archive, instances, planned, metric, args.batch_size, not args.allennlp_loop)
