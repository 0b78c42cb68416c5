"""
`compress-elmo pretrain`, `perplexity` and `finetune`: the biLM as a language model.
"""

import argparse
import json
import os
from dataclasses import asdict
from typing import List, Tuple

import torch

from elmo_compress.data import read_corpus, split_held_out, stdlib_sentences
from elmo_compress.lm import PretrainConfig, evaluate_perplexity, finetune, load_lm, pretrain
from elmo_compress.lm.bundle import OPTIONS_NAME, WEIGHTS_NAME, bundle_path
from elmo_compress.lm.training import finetuned_weights
from elmo_compress.weights import ElmoOptions

Sentences = List[List[str]]


def default_split() -> Tuple[Sentences, Sentences]:
    """(train, held-out) of the embedded default corpus."""
    split = split_held_out(stdlib_sentences())
    return split.train, split.held_out


def add_subparser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    defaults = PretrainConfig()
    parser = subparsers.add_parser(
        "pretrain",
        description="Train an ELMo-architecture biLM (allennlp's _ElmoBiLm: char CNN, highway, LSTM "
        "with projection, skip connection, clipping) as a bidirectional language model, and write "
        "official options.json + weights.hdf5 plus vocab.txt, softmax.hdf5 and training.json.",
        help="train a biLM on a corpus and write ELMo files",
    )
    parser.add_argument("-o", "--output-dir", required=True, help="bundle folder")
    parser.add_argument("--corpus", help="training text, one sentence per line (default: embedded corpus)")
    parser.add_argument("--held-out", help="held-out text (default: the embedded corpus' held-out split)")
    for name in (
        "projection_dim",
        "cell_dim",
        "num_layers",
        "num_highway",
        "char_embedding_dim",
        "vocabulary_size",
    ):
        parser.add_argument("--" + name.replace("_", "-"), type=int, default=getattr(defaults, name))
    parser.add_argument("--steps", type=int, default=defaults.steps, help="optimizer steps")
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--checkpoint-every", type=int, default=defaults.checkpoint_every)
    parser.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")
    parser.set_defaults(func=run_pretrain)
    _add_perplexity_subparser(subparsers)
    _add_finetune_subparser(subparsers)
    return parser


def _corpora(corpus: str, held_out: str) -> Tuple[Sentences, Sentences]:
    if corpus is None:
        train, default_held_out = default_split()
        return train, read_corpus(held_out) if held_out else default_held_out
    return read_corpus(corpus), read_corpus(held_out) if held_out else []


def run_pretrain(args: argparse.Namespace) -> None:
    if args.threads:
        torch.set_num_threads(args.threads)
    config = PretrainConfig(
        **{
            name: getattr(args, name)
            for name in asdict(PretrainConfig())
            if name not in ("filters", "gradient_clip", "dropout") and hasattr(args, name)
        }
    )
    train, held_out = _corpora(args.corpus, args.held_out)
    pretrain(train, args.output_dir, config, held_out=held_out, resume=args.resume)
    with open(bundle_path(args.output_dir, "training.json"), encoding="utf-8") as record:
        print(record.read())


def _add_perplexity_subparser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "perplexity",
        description="Forward, backward and mean perplexity of a biLM bundle (optionally with a compressed "
        "weights file made from it) on held-out text.",
        help="held-out perplexity of a (compressed) biLM",
    )
    parser.add_argument("bundle", help="biLM bundle folder written by `pretrain`")
    parser.add_argument("--weights", help="compressed weights file to use instead of the bundle's weights")
    parser.add_argument("--held-out", help="text, one sentence per line (default: embedded held-out split)")
    parser.set_defaults(func=run_perplexity)


def run_perplexity(args: argparse.Namespace) -> None:
    held_out = read_corpus(args.held_out) if args.held_out else default_split()[1]
    lm, vocabulary = load_lm(args.bundle, weight_file=args.weights)
    result = evaluate_perplexity(lm, held_out, vocabulary)
    print(json.dumps(asdict(result), indent=2))


def _add_finetune_subparser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "finetune",
        description="Fine-tune a compressed biLM on the language-model loss and write the result as a "
        "compressed weights file (OUT_DIR/weights.hdf5 + options.json).",
        help="fine-tune a compressed biLM",
    )
    parser.add_argument("bundle", help="biLM bundle folder written by `pretrain` (vocabulary and softmax)")
    parser.add_argument("weights", help="compressed weights file made from the bundle's weights")
    parser.add_argument("-o", "--output-dir", required=True)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--everything", action="store_true", help="train every biLM parameter, not only factors")
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--corpus", help="training text (default: embedded corpus)")
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(func=run_finetune)


def run_finetune(args: argparse.Namespace) -> None:
    train = read_corpus(args.corpus) if args.corpus else default_split()[0]
    lm, vocabulary = load_lm(args.bundle, weight_file=args.weights, requires_grad=True)
    finetune(
        lm, train, vocabulary, args.steps, not args.everything, learning_rate=args.learning_rate, seed=args.seed
    )
    options = ElmoOptions.from_file(bundle_path(args.bundle, OPTIONS_NAME))
    metadata = dict(lm.bilm.weights_metadata)
    metadata["finetune"] = {"steps": args.steps, "only_factors": not args.everything, "seed": args.seed}
    os.makedirs(args.output_dir, exist_ok=True)
    finetuned_weights(lm, options, metadata).save(os.path.join(args.output_dir, WEIGHTS_NAME))
    options.save(os.path.join(args.output_dir, OPTIONS_NAME))
    print(f"wrote {os.path.join(args.output_dir, WEIGHTS_NAME)}")
