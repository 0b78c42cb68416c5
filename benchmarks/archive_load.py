"""
How long `allennlp`'s `load_archive` takes on a model with an ELMo of the original size (2 layers, cell
4096, projection 512, 2048 character filters, 2 highway layers; random weights), plain and compressed
by `compress-elmo archive`. A compressed archive holds its factors and names their exact layout, so it
loads without factorizing anything and without the original ELMo files; this prints whether that costs
time. Warm, median of --repeats loads of each, alternating.

    python benchmarks/archive_load.py [--repeats 3] [--threads 2] [--rank 64]
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

import torch

from elmo_compress.commands.arguments import positive_int


def _model_config(options_file: str, weight_file: str) -> dict:
    """A small tagger over ELMo (what the archive holds besides ELMo hardly matters here)."""
    return {
        "dataset_reader": {"type": "conll2003", "tag_label": "ner", "token_indexers": {"elmo": {"type": "elmo_characters"}}},
        "train_data_path": "unused",
        "model": {
            "type": "simple_tagger",
            "text_field_embedder": {
                "token_embedders": {
                    "elmo": {"type": "elmo_token_embedder", "options_file": options_file, "weight_file": weight_file, "dropout": 0.0}
                }
            },
            "encoder": {"type": "pass_through", "input_dim": 1024},
        },
        "data_loader": {"batch_size": 32},
        "trainer": {"num_epochs": 1, "optimizer": "adam"},
    }


def write_plain_archive(folder: str) -> str:
    """An archive of an untrained tagger over an ELMo-size random biLM."""
    from allennlp.common import Params
    from allennlp.data import Vocabulary
    from allennlp.models import Model

    from elmo_compress.benchmark.models import elmo_model
    from elmo_compress.downstream.archive import write_archive

    weights = elmo_model().weights()
    options_file, weight_file = os.path.join(folder, "options.json"), os.path.join(folder, "weights.hdf5")
    weights.options.save(options_file)
    weights.save(weight_file)
    config = _model_config(options_file, weight_file)
    vocabulary = Vocabulary(tokens_to_add={"labels": ["O", "B-PER", "I-PER"]})
    model = Model.from_params(vocab=vocabulary, params=Params(json.loads(json.dumps(config["model"]))))
    archive = os.path.join(folder, "plain.tar.gz")
    write_archive(model, config, archive)
    return archive


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=positive_int, default=3)
    parser.add_argument("--threads", type=positive_int, default=2)
    parser.add_argument("--rank", type=positive_int, default=64, help="SVD rank of W_i and W_h (default: 64)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    from allennlp.models.archival import load_archive

    from elmo_compress.downstream.archive import compress_archive, import_plugins_quietly
    from elmo_compress.factorize import CompressionSpec

    import_plugins_quietly()
    with tempfile.TemporaryDirectory() as folder:
        plain = write_plain_archive(folder)
        spec = CompressionSpec.from_dict({"method": "svd", "target": "both", "rank": args.rank})
        started = time.perf_counter()
        _, compressed = compress_archive(plain, spec, os.path.join(folder, "compressed"))
        print(f"compress-elmo archive (SVD of W_i and W_h at rank {args.rank}): {time.perf_counter() - started:.1f} s")
        sizes = {name: os.path.getsize(path) / 1e6 for name, path in (("plain", plain), ("compressed", compressed))}
        seconds = {"plain": [], "compressed": []}
        for _ in range(args.repeats + 1):  # the first round warms the file cache and the imports
            for name, path in (("plain", plain), ("compressed", compressed)):
                started = time.perf_counter()
                load_archive(path, cuda_device=-1)
                seconds[name].append(time.perf_counter() - started)
        for name in ("plain", "compressed"):
            timed = seconds[name][1:]
            print(
                f"load_archive {name:10s} ({sizes[name]:6.0f} MB): median {statistics.median(timed):.2f} s "
                f"(min {min(timed):.2f}, max {max(timed):.2f}, {len(timed)} warm loads)"
            )
        ratio = statistics.median(seconds["compressed"][1:]) / statistics.median(seconds["plain"][1:])
        print(f"compressed / plain load time: {ratio:.2f}x, {args.threads} threads, torch {torch.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
