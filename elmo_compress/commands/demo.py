"""
`compress-elmo demo`: the end-to-end job of `make demo` on the demo biLM shipped in the package: the
language-model experiment (every method, target and rank; perplexity, parameters, error; one fine-tuned
setting), the matrix analysis, and a downstream task trained on the demo data and swept.
"""

import argparse

from elmo_compress.commands.arguments import add_output_dir, add_threads, non_negative_int, positive_int
from elmo_compress.constants import DEMO_BILM_DIR
from elmo_compress.methods import METHOD_NAMES, PAPER_METHODS

DOWNSTREAM_TASKS = ("probe", "sentiment", "ner", "snli")


def add_subparser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "demo",
        description="Compress the shipped demo biLM every way and report parameters, reconstruction "
        "error and held-out perplexity (Markdown, CSV and PNG in OUT_DIR), analyze its matrices, and train "
        "and sweep one downstream demo task.",
        help="run the end-to-end demo",
    )
    add_output_dir(parser, "where the files go", default="demo_output")
    parser.add_argument("--bundle", default=DEMO_BILM_DIR, help="biLM bundle (default: the shipped demo biLM)")
    parser.add_argument("--methods", nargs="+", choices=METHOD_NAMES, default=list(PAPER_METHODS), help="(default: svd semi_nmf prune)")
    parser.add_argument("--ranks", type=positive_int, nargs="+", default=[8, 16, 32, 48], help="ranks to try (default: 8 16 32 48)")
    parser.add_argument("--finetune-steps", type=non_negative_int, default=150, help="fine-tune steps, 0: none (default: 150)")
    parser.add_argument("--finetune-rank", type=positive_int, default=16, help="fine-tune SVD on both targets at this rank (default: 16)")
    parser.add_argument(
        "--held-out-sentences", type=non_negative_int, default=300, help="evaluate on the first N held-out sentences, 0 for all (default: 300)"
    )
    parser.add_argument(
        "--downstream-task",
        choices=[*DOWNSTREAM_TASKS, "none"],
        default="probe",
        help="downstream task to train on the demo data and sweep (default: probe, a CRF tagger on the demo NER "
        "task whose only input is ELMo's LSTM layers; none: skip)",
    )
    parser.add_argument("--downstream-ranks", type=positive_int, nargs="+", default=[8, 32], help="sweep ranks (default: 8 32; rank 16 adds a third of the downstream time)")
    parser.add_argument("--downstream-epochs", type=positive_int, help="training epochs (default: the task's, probe 2, others 15)")
    parser.add_argument(
        "--downstream-seeds", type=positive_int, default=3, help="train and sweep once per training seed; the table gives mean and spread (default: 3)"
    )
    add_threads(parser)
    return parser


def run(args: argparse.Namespace) -> None:
    from elmo_compress.demo.run import DemoSettings, run_demo

    run_demo(
        DemoSettings(
            args.bundle,
            args.output_dir,
            args.methods,
            args.ranks,
            args.finetune_steps,
            args.finetune_rank,
            args.held_out_sentences,
            args.downstream_task,
            args.downstream_ranks,
            args.downstream_epochs,
            args.downstream_seeds,
            args.force,
        )
    )
