"""
`compress-elmo demo`: the end-to-end job of `make demo`. Builds a small ELMo-format biLM, compresses
it with every method, target and a few ranks, and reports parameters, reconstruction error and how
far the biLM's top-layer output drifts from the uncompressed biLM on real sentences.
"""

import argparse
import os
from typing import List, Sequence

import torch
from allennlp.modules.elmo import _ElmoBiLm, batch_to_ids

from elmo_compress.commands.table import format_markdown_table, format_table
from elmo_compress.data import stdlib_sentences
from elmo_compress.factorize import METHODS, CompressionSpec
from elmo_compress.modules import CompressedElmoBiLm
from elmo_compress.weights.synthetic import elmo_options, random_elmo_weights

DEMO_TARGETS = ("input", "recurrent", "both")
DEMO_RANKS = (4, 8, 16, 32)


def add_subparser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "demo",
        description="Build a small ELMo-format biLM, compress it every way, and print a table of "
        "parameters, reconstruction error and output drift.",
        help="run the end-to-end demo",
    )
    parser.add_argument("--output-dir", default="demo_output", help="where files go (default: demo_output)")
    parser.add_argument("--sentences", type=int, default=96, help="held-out sentences to run (default: 96)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the demo biLM (default: 0)")
    parser.set_defaults(func=run_demo)
    return parser


def top_layer_outputs(bilm: torch.nn.Module, batches: Sequence[torch.Tensor]) -> torch.Tensor:
    """Top biLM layer at every real token of every batch, shape (num_tokens, 2 * projection_dim)."""
    outputs = []
    with torch.no_grad():
        for character_ids in batches:
            result = bilm(character_ids)
            mask = result["mask"].bool()
            outputs.append(result["activations"][-1][mask])
    return torch.cat(outputs)


def relative_drift(outputs: torch.Tensor, reference: torch.Tensor) -> float:
    return float((outputs - reference).norm() / reference.norm())


def run_demo(args: argparse.Namespace) -> None:
    torch.manual_seed(args.seed)
    bilm_dir = os.path.join(args.output_dir, "bilm")
    os.makedirs(bilm_dir, exist_ok=True)
    options_file, weight_file = os.path.join(bilm_dir, "options.json"), os.path.join(bilm_dir, "weights.hdf5")
    weights = random_elmo_weights(elmo_options(projection_dim=64, cell_dim=256), seed=args.seed)
    weights.options.save(options_file)
    weights.save(weight_file)
    print(f"demo biLM (untrained, random weights, seed {args.seed}): {options_file}, {weight_file}")

    sentences = stdlib_sentences(limit=args.sentences)
    batches = [batch_to_ids(sentences[start : start + 32]) for start in range(0, len(sentences), 32)]
    reference = top_layer_outputs(_ElmoBiLm(options_file, weight_file), batches)
    ours = top_layer_outputs(CompressedElmoBiLm(options_file, weight_file), batches)
    print(
        f"uncompressed path vs allennlp _ElmoBiLm, max abs difference: {float((ours - reference).abs().max()):.2e}"
    )

    headers = ["method", "target", "rank", "LSTM W params", "biLM params", "mean rel. error", "output drift"]
    rows: List[List[object]] = []
    for method in METHODS:
        for target in DEMO_TARGETS:
            for rank in DEMO_RANKS:
                spec = CompressionSpec.from_dict(
                    {"method": method, "target": target, "rank": rank, "seed": args.seed}
                )
                bilm = CompressedElmoBiLm(options_file, weight_file, compression=spec)
                rows.append(_row(spec, rank, bilm, weights.num_parameters(), batches, reference))
    table = format_table(headers, rows)
    print(table)
    with open(os.path.join(args.output_dir, "compression_table.md"), "w", encoding="utf-8") as markdown:
        markdown.write(format_markdown_table(headers, rows) + "\n")
    print(f"wrote {os.path.join(args.output_dir, 'compression_table.md')}")


def _row(
    spec: CompressionSpec,
    rank: int,
    bilm: CompressedElmoBiLm,
    dense_total: int,
    batches: Sequence[torch.Tensor],
    reference: torch.Tensor,
) -> List[object]:
    reports = bilm.compression_report
    before = sum(report.parameters_before for report in reports)
    after = sum(report.parameters_after for report in reports)
    compressed = [report.relative_error for report in reports if report.method != "dense"]
    drift = relative_drift(top_layer_outputs(bilm, batches), reference)
    return [
        spec.method,
        spec.target,
        rank,
        f"{after:,} ({after / before:.0%})",
        f"{dense_total - before + after:,}",
        f"{sum(compressed) / len(compressed):.3f}",
        f"{drift:.3f}",
    ]
