"""
`merge_files`: the shard files of one `compress-elmo embed` run joined into the file the run would
have written without `--shard`, byte for byte (same arrays, same attributes but `shard`, which
becomes `1/1`, same writer).

Refused, with one line naming the files: files that are not shards of one run (another input text,
options or weights file, `--layers`, `--batch-size`, `--stateful`, `--int8` or `--char-cache`), a line
in two files, a line in none.
"""

from dataclasses import asdict, dataclass
from typing import Dict, List, Sequence

import numpy

from elmo_compress.embed.vectors_file import (
    PROVENANCE_MEANINGS,
    Provenance,
    VectorsFile,
    read_vectors_file,
    sentence_index,
    vectors_file_bytes,
)
from elmo_compress.errors import EmbedError
from elmo_compress.outputs import OutputFile, write_bytes


@dataclass(frozen=True)
class MergeSummary:
    shards: List[str]
    sentences: int
    provenance: Provenance


def merge_files(shard_files: Sequence[str], output_file: str, force: bool = False) -> MergeSummary:
    """Join `shard_files` into `output_file` (see the module docstring)."""
    if not shard_files:
        raise EmbedError("give the shard files to merge")
    with OutputFile(output_file, inputs=list(shard_files), force=force) as output:
        shards = [read_vectors_file(path) for path in shard_files]
        provenance = _one_run(shards)
        vectors = _all_lines(shards, provenance.sentences)
        texts = sentence_index((int(index), text) for shard in shards for text, index in shard.sentence_to_index.items())
        write_bytes(output.path, vectors_file_bytes(vectors, texts, provenance))
    return MergeSummary([shard.provenance.shard for shard in shards], len(vectors), provenance)


def _one_run(shards: Sequence[VectorsFile]) -> Provenance:
    """The whole run's provenance, or `EmbedError` naming what differs between two of the files."""
    first = shards[0]
    expected = asdict(first.provenance.of_whole_run())
    for shard in shards[1:]:
        actual = asdict(shard.provenance.of_whole_run())
        for name, meaning in PROVENANCE_MEANINGS.items():
            if actual[name] != expected[name]:
                raise EmbedError(
                    f"{shard.path} and {first.path} are not shards of one run: different {meaning} "
                    f"({actual[name]} vs {expected[name]})"
                )
    return first.provenance.of_whole_run()


def _all_lines(shards: Sequence[VectorsFile], sentences: int) -> Dict[int, numpy.ndarray]:
    """Every line's vectors, each from exactly one file."""
    vectors: Dict[int, numpy.ndarray] = {}
    owner: Dict[int, str] = {}
    for shard in shards:
        for index, array in shard.vectors.items():
            if index in owner:
                raise EmbedError(f"line index {index} is in both {owner[index]} and {shard.path}: the shards overlap")
            vectors[index], owner[index] = array, shard.path
    missing = [index for index in range(sentences) if index not in vectors]
    if missing:
        raise EmbedError(
            f"{len(missing)} of the input's {sentences} lines are in none of the files (first: line index "
            f"{missing[0]}); give every shard of the run"
        )
    return vectors
