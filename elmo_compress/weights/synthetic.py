"""
Untrained ELMo-format biLMs with random weights, for tests and for timing: every array has the shape
an official file of the same options has, drawn from N(0, 1 / fan_in).
"""

from typing import Any, Dict

import numpy

from elmo_compress.weights.elmo_weights import ElmoWeights, expected_shapes
from elmo_compress.weights.options import ElmoOptions


def elmo_options(
    projection_dim: int,
    cell_dim: int,
    num_layers: int = 2,
    filters: Any = ((1, 32), (2, 32), (3, 64), (4, 128)),
    char_embedding_dim: int = 16,
    num_highway: int = 1,
) -> ElmoOptions:
    """Options in the official `options.json` layout (clips 3, skip connections, 262 characters)."""
    raw: Dict[str, Any] = {
        "lstm": {
            "cell_clip": 3,
            "use_skip_connections": True,
            "n_layers": num_layers,
            "proj_clip": 3,
            "projection_dim": projection_dim,
            "dim": cell_dim,
        },
        "char_cnn": {
            "embedding": {"dim": char_embedding_dim},
            "filters": [list(pair) for pair in filters],
            "n_highway": num_highway,
            "n_characters": 262,
            "max_characters_per_token": 50,
            "activation": "relu",
        },
    }
    return ElmoOptions.from_dict(raw)


def random_elmo_weights(options: ElmoOptions, seed: int = 0) -> ElmoWeights:
    """A random, uncompressed biLM with the shapes `options` imply. Same seed, same arrays."""
    generator = numpy.random.default_rng(seed)
    shapes = dict(expected_shapes(options, compressed=False))
    shapes["char_embed"] = (261, options.char_embedding_dim)
    datasets = {}
    for name in sorted(shapes):
        shape = shapes[name]
        fan_in = int(numpy.prod(shape[:-1])) if len(shape) > 1 else shape[0]
        scale = 1.0 if name == "char_embed" else 1.0 / numpy.sqrt(fan_in)
        datasets[name] = (generator.standard_normal(shape) * scale).astype(numpy.float32)
    return ElmoWeights.from_datasets(options, datasets)
