"""`compress-elmo pretrain`: train an ELMo-architecture biLM as a bidirectional language model."""

import argparse

from elmo_compress.commands.arguments import add_output_dir, add_threads, non_negative_float, non_negative_int, positive_float, positive_int

# PretrainConfig's defaults (elmo_compress/lm/training.py), repeated for --help without importing torch;
# a test checks that they agree.
DEFAULTS = {
    "projection_dim": 64,
    "cell_dim": 256,
    "num_layers": 2,
    "num_highway": 1,
    "char_embedding_dim": 16,
    "vocabulary_size": 20000,
    "steps": 3000,
    "batch_size": 32,
    "learning_rate": 2e-3,
    "seed": 0,
    "checkpoint_every": 250,
}


def add_subparser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "pretrain",
        description="Train an ELMo-architecture biLM (allennlp's _ElmoBiLm: char CNN, highway, LSTM "
        "with projection, skip connection, clipping) as a bidirectional language model, and write "
        "official options.json + weights.hdf5 plus vocab.txt, softmax.hdf5 and training.json.",
        help="train a biLM on a corpus and write ELMo files",
    )
    add_output_dir(parser, "bundle folder (checkpoint.pt is kept there for --resume)")
    parser.add_argument("--corpus", help="training text, one sentence per line (default: embedded corpus)")
    parser.add_argument("--held-out", help="held-out text (default: the embedded corpus' held-out split)")
    for name in ("projection_dim", "cell_dim", "num_layers", "char_embedding_dim", "vocabulary_size", "batch_size"):
        parser.add_argument("--" + name.replace("_", "-"), type=positive_int, default=DEFAULTS[name], help=f"(default: {DEFAULTS[name]})")
    for name in ("num_highway", "steps", "seed"):
        parser.add_argument("--" + name.replace("_", "-"), type=non_negative_int, default=DEFAULTS[name], help=f"(default: {DEFAULTS[name]})")
    parser.add_argument("--learning-rate", type=positive_float, default=DEFAULTS["learning_rate"], help="(default: 0.002)")
    parser.add_argument("--checkpoint-every", type=positive_int, default=DEFAULTS["checkpoint_every"], help="(default: 250)")
    parser.add_argument("--resume", action="store_true", help="continue from OUT_DIR/checkpoint.pt")
    add_threads(parser)
    return parser


def run(args: argparse.Namespace) -> None:
    from elmo_compress.data import default_split, read_corpus
    from elmo_compress.lm import PretrainConfig, pretrain

    config = PretrainConfig(**{name: getattr(args, name) for name in DEFAULTS})
    if args.corpus is None:
        train, held_out = default_split()
        held_out = read_corpus(args.held_out) if args.held_out else held_out
    else:
        train, held_out = read_corpus(args.corpus), read_corpus(args.held_out) if args.held_out else []
    _, vocabulary = pretrain(train, args.output_dir, config, held_out=held_out, resume=args.resume, force=args.force)
    print(f"wrote the biLM bundle to {args.output_dir} (vocabulary {len(vocabulary):,} words)")
