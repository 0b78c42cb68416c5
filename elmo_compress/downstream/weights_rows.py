"""
Sweep rows that are not a (method, target, rank) setting: the archive evaluated with its ELMo replaced by
a compressed weights file (`compress`, `shrink`, `distill` write them), so that budgeted, activation-aware
or distilled biLMs stand beside the paper's methods in one table. A file must have been compressed from
the archive's own ELMo weights: its metadata records the sha256 of the weights it came from.
"""

import re
from typing import Dict, List, Optional, Sequence, Tuple

from allennlp.common.file_utils import cached_path
from allennlp.models.archival import Archive

from elmo_compress.constants import MATRIX_TARGETS, TARGET_CHOICES, UNCOMPRESSED
from elmo_compress.downstream.archive import elmo_bilms, elmo_blocks
from elmo_compress.errors import ElmoCompressError, SweepError
from elmo_compress.methods import METHOD_NAMES
from elmo_compress.modules import lstm_cells
from elmo_compress.modules.forms import as_linear_form
from elmo_compress.weights import ElmoOptions, ElmoWeights, file_sha256
from elmo_compress.weights.layout import TARGET_ATTRIBUTES

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*")
SOURCE_PATTERN = re.compile(r"sha256:([0-9a-f]{64})")


def parse_named_file(text: str) -> Tuple[str, str]:
    """`NAME=FILE` -> (name, file); the name labels the row (letters, digits, `_ . + -`)."""
    name, equals, path = text.partition("=")
    if not equals or not path:
        raise SweepError(f"--compressed-weights {text!r}: give NAME=FILE, e.g. shrink=out/weights.hdf5")
    if not NAME_PATTERN.fullmatch(name):
        raise SweepError(f"--compressed-weights {text!r}: the name may hold letters, digits and _ . + - only")
    return name, path


def check_names(named_files: Sequence[Tuple[str, str]]) -> None:
    """Row names are unique and are not a method's name or "none" (rows are told apart by them)."""
    seen = set()
    for name, _ in named_files:
        if name in METHOD_NAMES or name == UNCOMPRESSED:
            raise SweepError(f"--compressed-weights {name}=...: {name!r} names a method row; pick another name")
        if name in seen:
            raise SweepError(f"--compressed-weights: the name {name!r} is given twice")
        seen.add(name)


def archive_weight_file(archive: Archive, archive_file: str) -> str:
    """The (local copy of the) ELMo weights file the archive was trained with; one for every ELMo block."""
    blocks = elmo_blocks(archive.config.as_dict(quiet=True).get("model"))
    files = {block.get("weight_file") for block in blocks}
    if len(files) != 1 or None in files:
        raise SweepError(f"{archive_file}: compressed weights rows need one ELMo weights file in the config, found {sorted(map(str, files))}")
    if any(block.get("requires_grad", False) for block in blocks):
        raise SweepError(
            f"{archive_file} fine-tuned its ELMo (requires_grad): a compressed file of the original weights "
            "does not hold the archive's ELMo"
        )
    return cached_path(files.pop())


def load_compressed_weights(archive: Archive, archive_file: str, name: str, path: str) -> ElmoWeights:
    """
    The compressed weights file for the row `name`, read with the archive's ELMo options, after checking
    that it is compressed and was compressed from the archive's own ELMo weights file.
    """
    bilm = elmo_bilms(archive.model)[0][1]
    options = ElmoOptions.from_dict(bilm._token_embedder._options, source=f"of {archive_file}")
    label = f"--compressed-weights {name}={path}" if name else f"--compressed-weights {path}"
    try:
        weights = ElmoWeights.from_file(options, path)
    except ElmoCompressError as error:
        raise SweepError(f"{label}: {error}") from None
    if not weights.is_compressed:
        raise SweepError(f"{label}: not a compressed weights file (an official ELMo file); compress it first")
    match = SOURCE_PATTERN.search(str(weights.metadata.get("source_weights", "")))
    if match is None:
        raise SweepError(f"{label}: its metadata does not record the sha256 of the weights it was compressed from")
    own_file = archive_weight_file(archive, archive_file)
    own = file_sha256(own_file)
    if match.group(1) != own:
        raise SweepError(
            f"{label}: compressed from other ELMo weights (sha256 {match.group(1)[:12]}...) than the archive's "
            f"{own_file} (sha256 {own[:12]}...)"
        )
    return weights


def weights_file_description(weights: ElmoWeights, original: Dict[Tuple[int, int, str], object]) -> Tuple[str, Optional[int], List[float]]:
    """
    (target, rank, relative errors) of a compressed file against the archive's dense matrices: the target
    its compressed matrices cover, their common rank (`None` when ranks differ) and each one's
    `||W - W_r||_F / ||W||_F`.
    """
    targets, ranks, errors = set(), set(), []
    for layer, direction in weights.cells():
        for target in MATRIX_TARGETS:
            matrix = weights.matrix(layer, direction, target)
            if matrix.method == "dense":
                continue
            targets.add(target)
            ranks.add(matrix.rank)
            errors.append(matrix.relative_error(original[(layer, direction, target)]))
    target = "both" if targets == set(MATRIX_TARGETS) else next(t for t in TARGET_CHOICES if {t} == targets)
    return target, ranks.pop() if len(ranks) == 1 else None, errors


def archive_matrices(archive: Archive) -> Dict[Tuple[int, int, str], object]:
    """The archive's dense LSTM matrices by (layer, direction, target)."""
    bilm = elmo_bilms(archive.model)[0][1]
    return {
        (layer, direction, target): as_linear_form(getattr(cell, TARGET_ATTRIBUTES[target])).to_matrix().weight.detach()
        for layer, direction, cell in lstm_cells(bilm._elmo_lstm)
        for target in MATRIX_TARGETS
    }
