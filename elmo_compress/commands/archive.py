"""
`compress-elmo archive`: compress the ELMo of a trained allennlp archive post-training and write a
self-contained archive that `allennlp evaluate` / `predict --include-package elmo_compress` load.
"""

import argparse

from elmo_compress.commands.arguments import add_output_dir, add_spec_arguments, add_threads, compression_block


def add_subparser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "archive",
        description="Compress the ELMo of a trained model.tar.gz (trained with plain ELMo) and write "
        "OUT_DIR/model.tar.gz, whose config uses compressed_elmo (bcn: bcn_compressed_elmo) with the ELMo "
        "options inline and the exact layout of every matrix, and whose weights hold the factors: it loads "
        "without factorizing and without the original ELMo files. Load it with allennlp evaluate/predict "
        "--include-package elmo_compress. With --compressed-weights FILE the archive's ELMo is that compressed "
        "file (compress, shrink, distill) instead.",
        help="compress the ELMo inside a trained allennlp archive",
    )
    parser.add_argument("archive_file", help="trained allennlp archive (model.tar.gz)")
    add_output_dir(parser, "folder for the compressed model.tar.gz")
    add_spec_arguments(parser, compressed_weights=True)
    add_threads(parser)
    return parser


def run(args: argparse.Namespace) -> None:
    from elmo_compress.downstream.archive import archive_with_compressed_weights, compress_archive
    from elmo_compress.factorize import CompressionSpec
    from elmo_compress.progress import CompressionBar
    from elmo_compress.reporting.compression import compression_summary

    if args.compressed_weights is not None:
        path = archive_with_compressed_weights(args.archive_file, args.compressed_weights, args.output_dir, args.force)
    else:
        spec = CompressionSpec.from_dict(compression_block(args))
        reports, path = compress_archive(args.archive_file, spec, args.output_dir, args.force, CompressionBar())
        print(compression_summary(reports))
    print(f"wrote {path}")
