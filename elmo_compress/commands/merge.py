"""`compress-elmo merge`: join the shard files of one `compress-elmo embed` run."""

import argparse

from elmo_compress.commands.arguments import add_output_file


def add_subparser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "merge",
        description="Join the files of one `compress-elmo embed --shard K/N` run into the file the run writes "
        "without --shard, byte for byte. Refuses files of different runs (input, weights, --layers, "
        "--batch-size, --stateful, --int8, --char-cache), a line in two files and a line in none.",
        help="join `embed --shard` files",
    )
    parser.add_argument("shard_files", nargs="+", metavar="SHARD", help="vectors files written by `embed --shard`")
    add_output_file(parser, "the merged hdf5 file")
    return parser


def run(args: argparse.Namespace) -> None:
    from elmo_compress.embed.merge import merge_files

    summary = merge_files(args.shard_files, args.output, args.force)
    print(f"merged shards {', '.join(summary.shards)}: {summary.sentences} lines, layers {summary.provenance.layers}; wrote {args.output}")
