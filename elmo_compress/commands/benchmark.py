"""
`compress-elmo benchmark`: CPU speed of the biLSTM and of the whole biLM (characters in, three layers
out), stock allennlp against the fast path, low rank, int8 and the character cache, as ratios measured
in the same run, next to the demo biLM's perplexity at the same relative rank.
"""

import argparse

from elmo_compress.commands.arguments import add_output_dir, positive_int

MODEL_NAMES = ("demo", "elmo")


def add_subparser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "benchmark",
        description="Time on CPU, at batch 1 x 20 and 32 x 40 tokens, on the original ELMo dimensions (random "
        "weights) and the demo biLM: the biLSTM (stock allennlp, the fast path, SVD of W_h or W_i+W_h at "
        "ranks, int8, low rank + int8) and the whole biLM (stock `_ElmoBiLm`, fast dense, SVD of W_i+W_h, "
        "int8, the character cache, and their combinations, on running text). Next to each row: the ideal "
        "speed-up from multiply-adds, the deviation from stock, and the demo biLM's held-out perplexity at the "
        "same relative rank. Writes OUT_DIR/speed.md, speed.png and speed.json (and perplexities.json, "
        "reused by a rerun into the same folder).",
        help="CPU speed benchmark of the fast path, low rank, int8 and the character cache",
    )
    add_output_dir(parser, "folder for speed.md, speed.png, speed.json and perplexities.json")
    parser.add_argument(
        "--threads", type=positive_int, default=2, help="torch CPU threads of every timed row (default: 2)"
    )
    parser.add_argument(
        "--repeats", type=positive_int, default=5, help="timed repeats per row, median reported (default: 5; 3 left the character-cache row noisy)"
    )
    parser.add_argument(
        "--models", nargs="*", choices=MODEL_NAMES, default=["elmo", "demo"], help="biLMs whose biLSTM is timed (default: both)"
    )
    parser.add_argument(
        "--whole-bilm",
        nargs="*",
        choices=MODEL_NAMES,
        default=["elmo", "demo"],
        help="biLMs timed as a whole, characters in, three layers out (default: both)",
    )
    parser.add_argument(
        "--perplexity-recipe",
        default="svd",
        metavar="NAME",
        help="how the demo biLM is compressed for the perplexity column: svd (plain truncated SVD), another name "
        "in elmo_compress.benchmark.perplexity.RECIPES, or none (no perplexities) (default: svd)",
    )
    parser.add_argument(
        "--perplexity-sentences",
        type=positive_int,
        metavar="N",
        help="held-out sentences the perplexities are computed on (default: all of the embedded held-out split)",
    )
    return parser


def run(args: argparse.Namespace) -> None:
    from elmo_compress.benchmark.report import run_speed_benchmark

    run_speed_benchmark(
        args.output_dir,
        args.models,
        args.threads,
        args.repeats,
        args.whole_bilm,
        args.force,
        args.perplexity_recipe,
        args.perplexity_sentences,
    )
