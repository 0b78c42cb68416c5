"""
Speed of the character cache (`RuntimeOptions.char_cache`): the dense whole biLM (fast path, LSTM
states reset per batch) at the original ELMo's dimensions (random weights,
`elmo_compress.benchmark.models.elmo_model`), with and without the cache.

    PYTHONPATH=. python benchmarks/char_cache.py [--batch-size 32] [--tokens 40] [--warm-batches 10]
        [--repeats 7] [--cache 50000] [--threads 1] [--seed 0]

The text: batches of `--batch-size` windows of `--tokens` consecutive tokens, drawn at random (seeded)
from the embedded corpus's training split (`elmo_compress.data.default_split`, English from Python's
documentation), so the vocabulary repeats as in any English text and every batch is new.

The cached biLM first runs `--warm-batches` batches, which fill its cache; both biLMs run them too, so
TorchScript and the allocator are warm. Then each of `--repeats` rounds times both biLMs on the same
new batch, in alternating order (so load changes hit both alike). Prints each biLM's median seconds
per batch, the ratio, how many token rows the cached biLM encoded, and the largest difference between
the two outputs.
"""

import argparse
import random
import statistics
import sys
import time
from typing import List

import torch
from allennlp.modules.elmo import batch_to_ids

from elmo_compress.benchmark.models import elmo_model
from elmo_compress.commands.arguments import non_negative_int, positive_int
from elmo_compress.data import default_split
from elmo_compress.modules import CompressedElmoBiLm, RuntimeOptions
from elmo_compress.runtime import describe_machine, set_threads


def token_windows(count: int, tokens: int, rng: random.Random, stream: List[str]) -> List[List[str]]:
    """`count` windows of `tokens` consecutive tokens of `stream`, at random places."""
    starts = [rng.randrange(len(stream) - tokens) for _ in range(count)]
    return [stream[start : start + tokens] for start in starts]


def parse_arguments(argv: List[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch-size", type=positive_int, default=32, help="sentences per batch (default: 32)")
    parser.add_argument("--tokens", type=positive_int, default=40, help="tokens per sentence (default: 40)")
    parser.add_argument("--warm-batches", type=non_negative_int, default=10, help="batches run before timing (default: 10)")
    parser.add_argument("--repeats", type=positive_int, default=7, help="timed rounds (default: 7)")
    parser.add_argument("--cache", type=positive_int, default=50_000, help="cache size in tokens (default: 50000)")
    parser.add_argument("--threads", type=positive_int, default=1, help="torch CPU threads (default: 1)")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="seed of the window positions (default: 0)")
    return parser.parse_args(argv)


def main(argv: List[str]) -> None:
    args = parse_arguments(argv)
    set_threads(args.threads)
    train, _ = default_split()
    stream = [token for sentence in train for token in sentence]
    if len(stream) <= args.tokens:
        raise SystemExit(f"--tokens {args.tokens} is longer than the corpus ({len(stream)} tokens)")
    rng = random.Random(args.seed)
    model = elmo_model()
    print(f"whole biLM: {model.description}; fast path, LSTM states reset per batch")
    print(f"text: batches of {args.batch_size} windows of {args.tokens} tokens of the embedded corpus "
          f"(training split, {len(stream)} tokens, {len(set(stream))} distinct)")
    print("\n".join(describe_machine().lines()))
    weights = model.weights()
    plain = CompressedElmoBiLm(weights=weights, runtime=RuntimeOptions(stateful=False)).eval()
    cached = CompressedElmoBiLm(weights=weights, runtime=RuntimeOptions(stateful=False, char_cache=args.cache)).eval()
    cache = cached._token_embedder.char_cache

    with torch.no_grad():
        for _ in range(args.warm_batches):
            character_ids = batch_to_ids(token_windows(args.batch_size, args.tokens, rng, stream))
            plain(character_ids)
            cached(character_ids)
        seconds = {"without cache": [], "with cache": []}
        encoded, rows, deviation = 0, 0, 0.0
        for repeat in range(args.repeats):
            character_ids = batch_to_ids(token_windows(args.batch_size, args.tokens, rng, stream))
            order = [("without cache", plain), ("with cache", cached)]
            outputs = {}
            misses = cache.misses
            for name, bilm in order if repeat % 2 == 0 else reversed(order):
                start = time.perf_counter()
                outputs[name] = bilm(character_ids)
                seconds[name].append(time.perf_counter() - start)
            encoded += cache.misses - misses
            rows += character_ids.size(0) * (character_ids.size(1) + 2)
            for actual, expected in zip(outputs["with cache"]["activations"], outputs["without cache"]["activations"]):
                deviation = max(deviation, float((actual - expected).abs().max()))

    for name, times in seconds.items():
        print(f"{name}: median {statistics.median(times):.3f} s per batch ({', '.join(f'{t:.3f}' for t in times)})")
    ratio = statistics.median(seconds["without cache"]) / statistics.median(seconds["with cache"])
    print(f"speed-up from the cache: {ratio:.2f}x")
    print(f"the cached biLM encoded {encoded} of {rows} token rows in the timed batches ({len(cache)} tokens cached); "
          f"largest difference between the outputs: {deviation:.2e}")


if __name__ == "__main__":
    main(sys.argv[1:])
