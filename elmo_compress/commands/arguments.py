"""
The arguments the verbs share, and the one place where numeric arguments are checked: at parse time,
before any work, as argparse types (a bad value is one usage-error line, exit status 2). Pure Python,
so `--help` and argument errors answer without importing torch.
"""

import argparse
import json
import math
import os
from typing import Any, Callable, Dict, Optional

from elmo_compress.constants import (
    DEFAULT_CALIBRATION_SENTENCES,
    DEFAULT_MAX_ITERATIONS,
    DEFAULT_TARGET,
    DEFAULT_TOLERANCE,
    RANK_KINDS,
    TARGET_CHOICES,
)
from elmo_compress.embed.plan import Shard
from elmo_compress.errors import CompressionSpecError, EmbedError
from elmo_compress.methods import METHOD_NAMES, METHODS
from elmo_compress.runtime import DEFAULT_THREADS, THREADS_HELP


def _number(text: str, convert: Callable[[str], float], kind: str) -> float:
    try:
        value = convert(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {kind}, got {text!r}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _checked(convert: Callable[[str], float], kind: str, accept: Callable[[float], bool], requirement: str) -> Callable[[str], float]:
    """An argparse type: `convert` the text (else "expected KIND"), then `accept` it (else "must be REQUIREMENT")."""

    def parse(text: str) -> float:
        value = _number(text, convert, kind)
        if not accept(value):
            raise argparse.ArgumentTypeError(f"must be {requirement}, got {text}")
        return value

    parse.__name__ = requirement
    return parse


def at_least(minimum: int) -> Callable[[str], int]:
    """An integer >= `minimum`."""
    return _checked(int, "an integer", lambda value: value >= minimum, f"an integer >= {minimum}")


positive_int = at_least(1)
non_negative_int = at_least(0)
positive_float = _checked(float, "a number", lambda value: value > 0, "a number > 0")
non_negative_float = _checked(float, "a number", lambda value: value >= 0, "a number >= 0")
share = _checked(float, "a number", lambda value: 0 < value <= 1, "a number in (0, 1]")
proper_share = _checked(float, "a number", lambda value: 0 <= value < 1, "a number in [0, 1)")


def add_output_dir(parser: argparse.ArgumentParser, help: str, default: Optional[str] = None) -> None:
    """`-o/--output-dir` (a folder, created when the result is complete) and `-f/--force`."""
    if default is None:
        parser.add_argument("-o", "--output-dir", required=True, metavar="DIR", help=help)
    else:
        parser.add_argument("-o", "--output-dir", default=default, metavar="DIR", help=f"{help} (default: {default})")
    parser.add_argument(
        "-f", "--force", action="store_true", help="replace outputs that exist (inputs are never overwritten)"
    )


def add_output_file(parser: argparse.ArgumentParser, help: str) -> None:
    """`-o/--output` (one file, written when the result is complete) and `-f/--force`."""
    parser.add_argument("-o", "--output", required=True, metavar="FILE", help=help)
    parser.add_argument(
        "-f", "--force", action="store_true", help="replace an output that exists (inputs are never overwritten)"
    )


def shard_spec(text: str) -> Shard:
    """`K/N`: the K-th of N shards (`elmo_compress.embed.plan.Shard`)."""
    try:
        return Shard.parse(text)
    except EmbedError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_threads(parser: argparse.ArgumentParser) -> None:
    """`--threads` with the one default (`elmo_compress.runtime.DEFAULT_THREADS`, see docs/runtime.md)."""
    parser.add_argument("--threads", type=non_negative_int, default=DEFAULT_THREADS, help=THREADS_HELP)


def add_spec_arguments(parser: argparse.ArgumentParser, compressed_weights: bool = False) -> None:
    """
    The options that make a `CompressionSpec` (read back by `compression_block`). `compressed_weights`:
    offer `--compressed-weights FILE` (an already compressed biLM) in place of a size.
    """
    methods = "; ".join(f"{name}: {method.summary}" for name, method in METHODS.items())
    parser.add_argument(
        "--method", choices=METHOD_NAMES, default="svd", help=f"how to compress (default: svd). {methods}"
    )
    parser.add_argument(
        "--target",
        choices=TARGET_CHOICES,
        default=DEFAULT_TARGET,
        help=f"which matrices: input (W_i), recurrent (W_h) or both (default: {DEFAULT_TARGET})",
    )
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument("--rank", type=positive_int, help="rank of every compressed matrix")
    size.add_argument("--fraction", type=share, help="rank as a fraction of full rank, in (0, 1]")
    size.add_argument("--energy", type=share, help="keep this share of the squared singular values, in (0, 1]")
    size.add_argument(
        "--compression",
        metavar="JSON",
        help="a compression block (a JSON file or inline JSON) with per-target / per-layer ranks; "
        "--method/--target/--seed are then taken from it",
    )
    if compressed_weights:
        size.add_argument(
            "--compressed-weights",
            metavar="FILE",
            help="a compressed weights file (compress, shrink, distill) made from the archive's own ELMo weights, "
            "used as it is instead of compressing",
        )
    parser.add_argument("--seed", type=non_negative_int, default=0, help="recorded seed (default: 0)")
    parser.add_argument(
        "--statistics",
        metavar="FILE",
        help="calibration statistics of these weights (statistics.npz of `shrink`) for methods that need them (asvd)",
    )
    parser.add_argument(
        "--max-iterations",
        type=positive_int,
        default=DEFAULT_MAX_ITERATIONS,
        help=f"Semi-NMF iterations (default: {DEFAULT_MAX_ITERATIONS})",
    )
    parser.add_argument(
        "--tolerance",
        type=non_negative_float,
        default=DEFAULT_TOLERANCE,
        help=f"Semi-NMF relative tolerance (default: {DEFAULT_TOLERANCE:g})",
    )


def compression_block(args: argparse.Namespace) -> Dict[str, Any]:
    """The compression block the spec arguments give: `--compression` (a JSON file or inline JSON), or
    one made of `--method/--target/--rank|--fraction|--energy/--seed` and the Semi-NMF settings."""
    if args.compression is not None:
        return _json_block(args.compression)
    size = {name: getattr(args, name) for name in RANK_KINDS if getattr(args, name) is not None}
    return {
        "method": args.method,
        "target": args.target,
        **size,
        "seed": args.seed,
        "max_iterations": args.max_iterations,
        "tolerance": args.tolerance,
        **({"statistics": args.statistics} if args.statistics is not None else {}),
    }


def add_calibration_arguments(parser: argparse.ArgumentParser) -> None:
    """`--text` and `--calibration-sentences`: the text whose inputs activation-aware methods are fitted to."""
    parser.add_argument(
        "--text",
        metavar="FILE",
        help="calibration text, one sentence per line, whitespace tokens (default: the embedded corpus's training split)",
    )
    parser.add_argument(
        "--calibration-sentences",
        type=positive_int,
        default=DEFAULT_CALIBRATION_SENTENCES,
        metavar="N",
        help=f"calibrate on N sentences spread evenly over the text (default: {DEFAULT_CALIBRATION_SENTENCES})",
    )


def add_task_archive_argument(parser: argparse.ArgumentParser) -> None:
    """`--task-archive`: a trained task model whose own training text is the text, instead of `--text`."""
    parser.add_argument(
        "--task-archive",
        metavar="MODEL.tar.gz",
        help="instead of --text: the training text of this trained allennlp model (the train_data_path of its "
        "config, read by its dataset reader; every text field is a sentence)",
    )


def _json_block(text: str) -> Dict[str, Any]:
    source = text
    if os.path.isfile(text):
        try:
            with open(text, encoding="utf-8") as block_file:
                source = block_file.read()
        except UnicodeDecodeError as error:
            raise CompressionSpecError(f"--compression file {text} is not UTF-8 text ({error.reason})") from None
    try:
        block = json.loads(source)
    except json.JSONDecodeError as error:
        raise CompressionSpecError(f"--compression is neither a JSON file nor inline JSON ({error})") from None
    if not isinstance(block, dict):
        raise CompressionSpecError("--compression must be a JSON object")
    return block
