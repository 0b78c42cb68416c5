"""
The ELMo vectors file: allennlp 0.9's `allennlp elmo` layout, plus root attributes that say what the
vectors were computed from.

- one float32 dataset per input line, named by the line's index ("0", "1", ...): shape
  (3, tokens, 2 * projection_dim) for `all` layers (layer 0 is the token representation, the same
  vector for both directions, as allennlp's `_ElmoBiLm` returns it; sentence boundaries removed),
  (tokens, 2 * projection_dim) for `top` and `average`;
- `sentence_to_index`: one variable-length string, a JSON object from each line's text to its index
  (a text on several lines maps to its last index, as in allennlp 0.9; keys in index order).

Readers that skip `sentence_to_index` and index the rest by `int(name)` read it as allennlp 0.9's.

The bytes depend only on the contents: datasets created in line order, then `sentence_to_index`,
attributes in name order, no timestamps. A shard's file holds the lines of its batches and the same
attributes as the whole run's except `shard`; the merged file is written by the same function from
the same arrays and attributes, so it equals the whole run's file byte for byte.
"""

import io
import json
import os
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Dict, Iterable, Mapping, Tuple

import h5py
import numpy

from elmo_compress.embed.plan import WHOLE_RUN, Shard
from elmo_compress.errors import EmbedError, first_line

SENTENCE_TO_INDEX = "sentence_to_index"
PRODUCER = "compress-elmo embed"


@dataclass(frozen=True)
class Provenance:
    """
    What a vectors file was computed from, stored as its root attributes. Two files are shards of one
    run when they agree on everything but `shard`.

    # Parameters

    input_sha256 : `str`
        SHA-256 of the input text.
    sentences : `int`
        The number of lines of the input (the whole run's datasets are "0" to `sentences - 1`).
    options_sha256, weights_sha256 : `str`
        SHA-256 of the biLM's options and weights files.
    layers : `str`
        `all`, `top` or `average`.
    batch_size : `int`
        Sentences per batch (with the order, it decides the batches, see `elmo_compress.embed.plan`).
    lstm_states : `str`
        `reset per batch` (stateless) or `carried from batch to batch` (stateful).
    int8 : `int`
        1 when the biLM ran with dynamic int8 linear layers, else 0.
    char_cache : `int`
        The size of the character cache in tokens (0: none); the input's most frequent tokens are
        preloaded into it.
    shard : `str`
        `K/N`; `1/1` for a whole run and for merged shards.
    producer : `str`
        `compress-elmo embed`.
    """

    input_sha256: str
    sentences: int
    options_sha256: str
    weights_sha256: str
    layers: str
    batch_size: int
    lstm_states: str
    int8: int
    char_cache: int
    shard: str = str(WHOLE_RUN)
    producer: str = PRODUCER

    def of_whole_run(self) -> "Provenance":
        return replace(self, shard=str(WHOLE_RUN))


# What a difference in each attribute means, for the merge's error message.
PROVENANCE_MEANINGS = {
    "input_sha256": "input text",
    "sentences": "number of input lines",
    "options_sha256": "options file",
    "weights_sha256": "weights file",
    "layers": "--layers",
    "batch_size": "--batch-size (other batches round differently)",
    "lstm_states": "LSTM states (--stateful)",
    "int8": "--int8",
    "char_cache": "--char-cache",
    "producer": "producer",
}


@dataclass(frozen=True)
class VectorsFile:
    """A vectors file in memory: its provenance, the vectors by line index and `sentence_to_index`."""

    path: str
    provenance: Provenance
    vectors: Dict[int, numpy.ndarray]
    sentence_to_index: Dict[str, str]


def sentence_index(lines: Iterable[Tuple[int, str]]) -> Dict[str, str]:
    """`sentence_to_index` for these (index, text) pairs: each text to its last index, in index order."""
    last: Dict[str, int] = {}
    for index, text in lines:
        last[text] = max(index, last.get(text, index))
    return {text: str(index) for text, index in sorted(last.items(), key=lambda item: item[1])}


def vectors_file_bytes(vectors: Mapping[int, numpy.ndarray], sentence_to_index: Mapping[str, str], provenance: Provenance) -> bytes:
    """The bytes of a vectors file (see the module docstring). Same input, same bytes."""
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as hdf5_file:
        for name, value in sorted(asdict(provenance).items()):
            hdf5_file.attrs[name] = value
        for index in sorted(vectors):
            hdf5_file.create_dataset(str(index), data=vectors[index], dtype="float32", track_times=False)
        texts = hdf5_file.create_dataset(SENTENCE_TO_INDEX, (1,), dtype=h5py.string_dtype(), track_times=False)
        texts[0] = json.dumps(dict(sentence_to_index))
    return buffer.getvalue()


def read_vectors_file(path: str) -> VectorsFile:
    """Read a vectors file written by `compress-elmo embed`; anything else raises `EmbedError`."""
    if not os.path.isfile(path):
        raise EmbedError(f"vectors file not found: {path}")
    try:
        with h5py.File(path, "r") as hdf5_file:
            provenance = _provenance(path, dict(hdf5_file.attrs))
            if SENTENCE_TO_INDEX not in hdf5_file:
                raise EmbedError(f"{path} has no {SENTENCE_TO_INDEX} dataset")
            texts = hdf5_file[SENTENCE_TO_INDEX][0]
            vectors = {
                _line_index(path, name, provenance.sentences): item[()]
                for name, item in hdf5_file.items()
                if name != SENTENCE_TO_INDEX
            }
    except (OSError, KeyError, RuntimeError, ValueError, TypeError) as error:
        if isinstance(error, EmbedError):
            raise
        message = first_line(error)
        raise EmbedError(f"{path} is not a readable hdf5 file ({message})") from None
    return VectorsFile(path, provenance, vectors, _sentence_to_index(path, texts))


def _provenance(path: str, attributes: Dict[str, Any]) -> Provenance:
    if attributes.get("producer") != PRODUCER:
        raise EmbedError(f"{path} was not written by {PRODUCER} (its attributes do not say what it was computed from)")
    values = {}
    for field in fields(Provenance):
        if field.name not in attributes:
            raise EmbedError(f"{path} lacks the attribute {field.name}")
        value = attributes[field.name]
        values[field.name] = int(value) if field.type is int else str(value)
    try:
        Shard.parse(values["shard"])
    except EmbedError as error:
        raise EmbedError(f"{path}: attribute shard: {error}") from None
    return Provenance(**values)


def _line_index(path: str, name: str, sentences: int) -> int:
    if not name.isdigit() or str(int(name)) != name or int(name) >= sentences:
        raise EmbedError(f"{path}: dataset {name!r} is not a line index of a {sentences}-line input")
    return int(name)


def _sentence_to_index(path: str, text: Any) -> Dict[str, str]:
    try:
        index = json.loads(text.decode("utf-8") if isinstance(text, bytes) else text)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise EmbedError(f"{path}: {SENTENCE_TO_INDEX} is not JSON ({error})") from None
    if not isinstance(index, dict) or not all(isinstance(value, str) and value.isdigit() for value in index.values()):
        raise EmbedError(f"{path}: {SENTENCE_TO_INDEX} must map sentences to line indices")
    return index
