"""
`compress-elmo benchmark`: CPU speed of the biLSTM (and the whole biLM), stock allennlp against the fast
path, low rank and int8, as ratios measured in the same run.
"""

import argparse

from elmo_compress.commands.arguments import add_output_dir, positive_int

MODEL_NAMES = ("demo", "elmo")


def add_subparser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "benchmark",
        description="Time the biLSTM on CPU: stock allennlp, the fast path dense, with SVD of W_h or W_i+W_h "
        "at several ranks, int8 and low rank + int8, at batch 1 x 20 and 32 x 40 tokens, on the original "
        "ELMo dimensions (random weights) and the demo biLM; write OUT_DIR/speed.md and its figure.",
        help="CPU speed benchmark of the fast path, low rank and int8",
    )
    add_output_dir(parser, "folder for speed.md and speed_cpu.png")
    parser.add_argument(
        "--threads", type=positive_int, default=2, help="torch CPU threads of every timed row (default: 2, as docs/speed.md)"
    )
    parser.add_argument("--repeats", type=positive_int, default=3, help="timed repeats per row, median reported (default: 3)")
    parser.add_argument("--models", nargs="+", choices=MODEL_NAMES, default=["elmo", "demo"], help="which biLMs (default: both)")
    parser.add_argument(
        "--whole-bilm",
        nargs="*",
        choices=MODEL_NAMES,
        default=["demo"],
        help="models also timed as a whole allennlp Elmo, character CNN included (default: demo)",
    )
    return parser


def run(args: argparse.Namespace) -> None:
    from elmo_compress.benchmark.report import run_speed_benchmark

    run_speed_benchmark(args.output_dir, args.models, args.threads, args.repeats, args.whole_bilm, args.force)
