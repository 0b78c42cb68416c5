"""`compress-elmo embed`: ELMo vectors of every line of a text file, in allennlp 0.9's `allennlp elmo` layout."""

import argparse

from elmo_compress.commands.arguments import add_output_file, add_threads, at_least, non_negative_int, positive_int, shard_spec
from elmo_compress.constants import DEFAULT_CHAR_CACHE, DEFAULT_EMBED_BATCH_SIZE, EMBED_LAYERS


def add_subparser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "embed",
        description="Compute the ELMo vectors of every line of INPUT (one sentence per line, tokens separated by "
        "whitespace; blank lines are refused) with an official or a compressed biLM, and write them in allennlp "
        "0.9's `allennlp elmo` layout: one float32 dataset per line named by its index (\"0\", \"1\", ...) and "
        "sentence_to_index (a JSON object from line text to index). Stateless by default: LSTM states start "
        "from zero in every batch, batches sorted by length. The file's attributes record what it was computed "
        "from (input, options and weights SHA-256, settings, shard).",
        help="ELMo vectors of a text file (hdf5, allennlp 0.9 layout)",
    )
    parser.add_argument("options_file", help="ELMo options.json")
    parser.add_argument("weight_file", help="ELMo weights.hdf5, official or compressed (`compress-elmo compress`)")
    parser.add_argument("input_file", help="text, one sentence per line")
    add_output_file(parser, "the hdf5 file to write")
    parser.add_argument(
        "--layers",
        choices=EMBED_LAYERS,
        default="all",
        help="all: (3, tokens, dim) per line, layer 0 the token representation repeated for both directions; "
        "top: the top LSTM layer, (tokens, dim); average: the mean of the three, (tokens, dim) (default: all)",
    )
    parser.add_argument(
        "--batch-size", type=positive_int, default=DEFAULT_EMBED_BATCH_SIZE, help=f"sentences per batch (default: {DEFAULT_EMBED_BATCH_SIZE})"
    )
    parser.add_argument(
        "--stateful",
        action="store_true",
        help="carry LSTM states from batch to batch, as allennlp's ELMo (and allennlp 0.9's `allennlp elmo`) does; "
        "batches are then consecutive lines in file order, as allennlp 0.9 formed them, so a line's vectors "
        "depend on the lines before it. Cannot be combined with --shard",
    )
    parser.add_argument("--int8", action="store_true", help="dynamic int8 linear layers (CPU; with the character cache the LSTM's only, the character encoder stays float)")
    parser.add_argument(
        "--char-cache",
        type=non_negative_int,
        metavar="TOKENS",
        help="keep the token representation (character CNN, highway, projection) of the input's most frequent "
        f"tokens, up to this many, computed once (default: {DEFAULT_CHAR_CACHE}, about {DEFAULT_CHAR_CACHE * 2 // 1000} MB "
        "at the original ELMo's size; 0: off). Equal to no cache up to float32 rounding",
    )
    parser.add_argument("--cuda-device", type=at_least(-1), default=-1, help="GPU to run on (default: -1, the CPU)")
    parser.add_argument(
        "--shard",
        type=shard_spec,
        metavar="K/N",
        help="compute only shard K of N: batches K, K+N, K+2N, ... of the run's batches; "
        "`compress-elmo merge` joins the N files into the file one run writes, byte for byte "
        "(with the same --threads on the same kind of CPU)",
    )
    add_threads(parser)
    return parser


def run(args: argparse.Namespace) -> None:
    from elmo_compress.embed.embedding import EmbedSettings, embed_file
    from elmo_compress.progress import EmbedBar

    settings = EmbedSettings(
        layers=args.layers,
        batch_size=args.batch_size,
        stateful=args.stateful,
        int8=args.int8,
        char_cache=args.char_cache,
        cuda_device=args.cuda_device,
        shard=args.shard,
    )
    summary = embed_file(
        args.options_file, args.weight_file, args.input_file, args.output, settings, args.force, EmbedBar()
    )
    print(summary.describe(args.output))
