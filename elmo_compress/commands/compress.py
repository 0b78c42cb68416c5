"""`compress-elmo compress`: compress an official ELMo biLM into a compressed weights file."""

import argparse
import os

from elmo_compress.commands.arguments import (
    add_calibration_arguments,
    add_output_dir,
    add_spec_arguments,
    add_threads,
    compression_block,
)
from elmo_compress.constants import OPTIONS_NAME, WEIGHTS_NAME


def add_subparser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "compress",
        description="Compress the LSTM input (W_i) and/or recurrent (W_h) matrices of an ELMo biLM "
        "and write a compressed weights file plus its options.json to OUT_DIR.",
        help="compress an ELMo options.json + weights.hdf5",
    )
    parser.add_argument("options_file", help="ELMo options.json")
    parser.add_argument("weight_file", help="official ELMo weights.hdf5")
    add_output_dir(parser, f"folder for {WEIGHTS_NAME} and {OPTIONS_NAME}")
    add_spec_arguments(parser)
    add_calibration_arguments(parser)
    add_threads(parser)
    return parser


def run(args: argparse.Namespace) -> None:
    from elmo_compress.factorize import CompressionSpec
    from elmo_compress.progress import CompressionBar
    from elmo_compress.reporting.compression import compression_summary
    from elmo_compress.calibration.collect import calibration_source
    from elmo_compress.errors import CompressionSpecError
    from elmo_compress.methods import METHODS
    from elmo_compress.weights.compress import compress_files

    spec = CompressionSpec.from_dict(compression_block(args))
    calibrate = METHODS[spec.method].needs_statistics and spec.statistics is None
    if args.text is not None and not calibrate:
        raise CompressionSpecError(f"--text is calibration text for methods that need statistics (asvd), not for {spec.method!r} with a statistics file or none")
    statistics = calibration_source(args.text, args.calibration_sentences) if calibrate else None
    original, compressed, reports = compress_files(
        args.options_file, args.weight_file, spec, args.output_dir, args.force, CompressionBar(), statistics
    )
    print(compression_summary(reports, original, compressed))
    print(f"wrote {os.path.join(args.output_dir, WEIGHTS_NAME)} and {os.path.join(args.output_dir, OPTIONS_NAME)}")
