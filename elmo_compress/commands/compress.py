"""
`compress-elmo compress`: compress an official ELMo biLM into a compressed weights file.
"""

import argparse
import json
import os
from typing import Any, Dict, List, Optional

from elmo_compress.commands.table import format_table
from elmo_compress.errors import CompressionSpecError
from elmo_compress.factorize import METHODS, TARGET_CHOICES, CompressionSpec
from elmo_compress.weights import ElmoWeights, MatrixReport, compress_weights, file_sha256

WEIGHTS_NAME = "weights.hdf5"
OPTIONS_NAME = "options.json"


def add_subparser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "compress",
        description="Compress the LSTM input (W_i) and/or recurrent (W_h) matrices of an ELMo biLM "
        "and write a compressed weights file plus its options.json to OUT_DIR.",
        help="compress an ELMo options.json + weights.hdf5",
    )
    parser.add_argument("options_file", help="ELMo options.json")
    parser.add_argument("weight_file", help="official ELMo weights.hdf5")
    parser.add_argument("-o", "--output-dir", required=True, help="folder for weights.hdf5 and options.json")
    add_spec_arguments(parser)
    parser.set_defaults(func=run_compress)
    return parser


def add_spec_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that make a `CompressionSpec` (read back by `spec_from_args`)."""
    parser.add_argument("--method", choices=METHODS, default="svd", help="how to compress (default: svd)")
    parser.add_argument(
        "--target", choices=tuple(TARGET_CHOICES), default="both", help="which matrices (default: both)"
    )
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument("--rank", type=int, help="rank of every compressed matrix")
    size.add_argument("--fraction", type=float, help="rank as a fraction of full rank, in (0, 1]")
    size.add_argument("--energy", type=float, help="keep this share of squared singular values, in (0, 1]")
    size.add_argument(
        "--compression",
        metavar="JSON",
        help="a compression block (JSON file or inline JSON) with per-target / per-layer ranks; "
        "--method/--target/--seed are then taken from it",
    )
    parser.add_argument("--seed", type=int, default=0, help="recorded seed (default: 0)")
    parser.add_argument("--max-iterations", type=int, default=300, help="Semi-NMF iterations (default: 300)")
    parser.add_argument(
        "--tolerance", type=float, default=1e-5, help="Semi-NMF relative tolerance (default: 1e-5)"
    )


def _load_json_block(text: str) -> Dict[str, Any]:
    source = text
    if os.path.isfile(text):
        with open(text, encoding="utf-8") as block_file:
            source = block_file.read()
    try:
        block = json.loads(source)
    except json.JSONDecodeError as error:
        raise CompressionSpecError(f"--compression is neither a JSON file nor inline JSON ({error})") from None
    if not isinstance(block, dict):
        raise CompressionSpecError("--compression must be a JSON object")
    return block


def spec_from_args(args: argparse.Namespace) -> CompressionSpec:
    if args.compression is not None:
        return CompressionSpec.from_dict(_load_json_block(args.compression))
    size = {
        name: getattr(args, name) for name in ("rank", "fraction", "energy") if getattr(args, name) is not None
    }
    block = {
        "method": args.method,
        "target": args.target,
        **size,
        "seed": args.seed,
        "max_iterations": args.max_iterations,
        "tolerance": args.tolerance,
    }
    return CompressionSpec.from_dict(block)


def compress_files(
    options_file: str, weight_file: str, spec: CompressionSpec, output_dir: str
) -> List[MatrixReport]:
    """Compress, then write OUT_DIR/weights.hdf5 and OUT_DIR/options.json (nothing on failure)."""
    weights = ElmoWeights.load(options_file, weight_file)
    source = f"{os.path.basename(weight_file)} sha256:{file_sha256(weight_file)}"
    compressed, reports = compress_weights(weights, spec, source=source)
    os.makedirs(output_dir, exist_ok=True)
    compressed.save(os.path.join(output_dir, WEIGHTS_NAME))
    weights.options.save(os.path.join(output_dir, OPTIONS_NAME))
    print(summary(reports, weights, compressed))
    return reports


def summary(reports: List[MatrixReport], original: ElmoWeights, compressed: Optional[ElmoWeights]) -> str:
    """Per-matrix table and totals."""
    headers = ["matrix", "shape", "method", "rank", "params before", "params after", "rel. error"]
    rows = [
        [
            f"layer {r.layer} {r.direction} {r.target}",
            f"{r.shape[0]}x{r.shape[1]}",
            r.method,
            "-" if r.rank is None else r.rank,
            f"{r.parameters_before:,}",
            f"{r.parameters_after:,}",
            f"{r.relative_error:.4f}",
        ]
        for r in reports
    ]
    before = sum(r.parameters_before for r in reports)
    after = sum(r.parameters_after for r in reports)
    rows.append(["LSTM W_i + W_h total", "", "", "", f"{before:,}", f"{after:,}", ""])
    lines = [format_table(headers, rows)]
    lines.append(f"LSTM W_i + W_h parameters: {before:,} -> {after:,} ({after / before:.1%})")
    if compressed is not None:
        total_before, total_after = original.num_parameters(), compressed.num_parameters()
        lines.append(
            f"whole biLM parameters:     {total_before:,} -> {total_after:,} ({total_after / total_before:.1%})"
        )
    return "\n".join(lines)


def run_compress(args: argparse.Namespace) -> None:
    spec = spec_from_args(args)
    compress_files(args.options_file, args.weight_file, spec, args.output_dir)
    print(f"wrote {os.path.join(args.output_dir, WEIGHTS_NAME)} and {os.path.join(args.output_dir, OPTIONS_NAME)}")
