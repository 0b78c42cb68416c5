"""
Post-training compression of a trained allennlp archive: find the ELMo biLM(s) in the model, compress
their LSTM matrices in place, and write a self-contained archive: its config builds the compressed
components (`compressed_elmo`, `bcn_compressed_elmo`) from the options inline and the exact layout of
every matrix, with no weight file, and its state dict holds every number. So `allennlp evaluate` /
`predict --include-package elmo_compress` load it without factorizing anything and without the
original ELMo files.
"""

import contextlib
import copy
import io
import json
import logging
import os
import sys
import tempfile
from typing import Any, Dict, Iterator, List, Optional, Tuple

import torch
from allennlp.common.meta import META_NAME, Meta
from allennlp.common.plugins import import_plugins
from allennlp.models import Model
from allennlp.models.archival import CONFIG_NAME, Archive, archive_model, load_archive
from allennlp.modules.elmo import _ElmoBiLm

from elmo_compress.constants import MATRIX_TARGETS
from elmo_compress.errors import ElmoCompressError, first_line
from elmo_compress.factorize import CompressionSpec
from elmo_compress.modules import CompressedElmoBiLm, RuntimeOptions, as_linear_form, compress_elmo_bilm, lstm_cells
from elmo_compress.modules.export import bilm_layout
from elmo_compress.outputs import OutputFolder
from elmo_compress.registration import register
from elmo_compress.weights import ElmoWeights, MatrixReport
from elmo_compress.weights.compress import CompressionProgress
from elmo_compress.weights.layout import TARGET_ATTRIBUTES

# Token embedder type -> its compressed counterpart (same arguments plus the compressed biLM's).
COMPRESSED_EMBEDDERS = {"elmo_token_embedder": "compressed_elmo"}
# Model types that take `elmo` directly -> the type whose `elmo` is a `CompressedElmo`.
COMPRESSED_MODELS = {"bcn": "bcn_compressed_elmo"}
ARCHIVE_NAME = "model.tar.gz"
ARCHIVE_WEIGHTS_NAME = "best.th"  # allennlp's name for the weights inside an archive

logger = logging.getLogger(__name__)


class ArchiveError(ElmoCompressError):
    """An archive that cannot be read, or that has no ELMo this tool can compress."""


@contextlib.contextmanager
def _console_captured() -> Iterator[io.StringIO]:
    """Everything written to the process's stdout and stderr (file descriptors 1 and 2) in the block."""
    captured = io.StringIO()
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with tempfile.TemporaryFile(mode="w+") as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield captured
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for descriptor in saved:
                os.close(descriptor)
            sink.seek(0)
            captured.write(sink.read())


def import_plugins_quietly() -> None:
    """
    allennlp's `import_plugins`, with what importing prints kept off the console: allennlp_models
    tries to download nltk data at import and, without network, nltk prints failures (to the
    original stderr, which `contextlib.redirect_stderr` does not reach) that are harmless here.
    The text goes to this module's debug log instead.
    """
    with _console_captured() as captured:
        import_plugins()
    if captured.getvalue():
        logger.debug("while importing plugins: %s", captured.getvalue())


def prepare_archive_types(archive_file: str) -> None:
    """
    Refuse a missing `archive_file` in one line, then register every type an archive may name: this
    package's compressed ones and allennlp's plugins' (allennlp_models' models and dataset readers).
    """
    if not os.path.isfile(archive_file):
        raise ArchiveError(f"archive not found: {archive_file}")
    register()
    import_plugins_quietly()


def load_model_archive(archive_file: str) -> Archive:
    """
    `load_archive` on CPU, after importing allennlp's plugins (allennlp_models, whose model and
    reader types archives name) as `allennlp evaluate` does; a bad file is one error line.
    """
    prepare_archive_types(archive_file)
    try:
        return load_archive(archive_file, cuda_device=-1)
    except Exception as error:  # allennlp raises many kinds (tarfile, JSON, config, state dict)
        raise ArchiveError(f"cannot load archive {archive_file}: {first_line(error)}") from None


def elmo_bilms(model: torch.nn.Module) -> List[Tuple[str, _ElmoBiLm]]:
    """(module name, biLM) of every ELMo biLM inside `model`, in module order."""
    return [(name, module) for name, module in model.named_modules() if isinstance(module, _ElmoBiLm)]


def compressed_matrices(bilm: _ElmoBiLm) -> List[str]:
    """`layer direction target: method` of every LSTM matrix of `bilm` that is not dense."""
    found = []
    for layer, direction, cell in lstm_cells(bilm._elmo_lstm):
        for target in MATRIX_TARGETS:
            method = as_linear_form(getattr(cell, TARGET_ATTRIBUTES[target])).to_matrix().method
            if method != "dense":
                found.append(f"layer {layer} {'forward' if direction == 0 else 'backward'} {target}: {method}")
    return found


def plain_elmo_bilms(model: Model, archive_file: str) -> List[Tuple[str, _ElmoBiLm]]:
    """The ELMo biLMs of a model trained with plain ELMo; an error if it has none or one is compressed."""
    bilms = elmo_bilms(model)
    if not bilms:
        raise ArchiveError(f"the model in {archive_file} ({type(model).__name__}) has no ELMo biLM to compress")
    for name, bilm in bilms:
        compressed = compressed_matrices(bilm)
        if compressed:
            raise ArchiveError(
                f"the ELMo of {archive_file} is already compressed ({compressed[0]}, ...); start from an archive "
                "trained with plain ELMo (elmo_token_embedder)"
            )
    return bilms


def _elmo_owners(config: Any) -> List[Tuple[Dict[str, Any], Dict[str, Any]]]:
    """
    (owner, block) for every ELMo block of a config, in order: an `elmo_token_embedder` block is its own
    owner; the `elmo` block of a `bcn` model is owned by the model (whose type changes when compressed).
    """
    found: List[Tuple[Dict[str, Any], Dict[str, Any]]] = []
    if isinstance(config, dict):
        if config.get("type") in COMPRESSED_EMBEDDERS:
            found.append((config, config))
        elif config.get("type") in COMPRESSED_MODELS and isinstance(config.get("elmo"), dict):
            found.append((config, config["elmo"]))
        for value in config.values():
            found += _elmo_owners(value)
    elif isinstance(config, list):
        for value in config:
            found += _elmo_owners(value)
    return found


def elmo_blocks(config: Any) -> List[Dict[str, Any]]:
    """Every ELMo block of a config, in order: `elmo_token_embedder` blocks and the `elmo` of `bcn` models."""
    return [block for _, block in _elmo_owners(config)]


def _rewrite_elmo_blocks(config: Any, replacement: Dict[str, Any]) -> int:
    """Turn every ELMo block of `config` (in place) into its compressed form; returns how many."""
    owners = _elmo_owners(config)
    for owner, block in owners:
        owner["type"] = {**COMPRESSED_EMBEDDERS, **COMPRESSED_MODELS}[owner["type"]]
        for key in ("options_file", "weight_file", "compression", "options", "layout"):
            block.pop(key, None)
        block.update(copy.deepcopy(replacement))
    return len(owners)


def compressed_config(config: Dict[str, Any], options: Dict[str, Any], layout: Dict[str, Any]) -> Dict[str, Any]:
    """
    A copy of a training config whose ELMo is built compressed: each `elmo_token_embedder` becomes
    `compressed_elmo`, a `bcn` model `bcn_compressed_elmo`, with the ELMo options inline and the layout
    of the compressed biLM instead of the options and weight files.
    """
    rewritten = copy.deepcopy(config)
    found = _rewrite_elmo_blocks(rewritten.get("model"), {"options": options, "layout": layout})
    if not found:
        known = ", ".join(sorted(COMPRESSED_EMBEDDERS) + [f"model type {name!r}" for name in COMPRESSED_MODELS])
        raise ArchiveError(f"the archive's model config has no ELMo block this tool can compress ({known})")
    return rewritten


def compress_model(
    model: Model, spec: CompressionSpec, progress: Optional[CompressionProgress] = None
) -> Tuple[List[MatrixReport], Dict[str, Any], Dict[str, Any]]:
    """
    Compress every ELMo biLM of `model` in place. Returns the matrix reports, the ELMo options and the
    layout of the compressed biLM (the same for every biLM of the model, or an error).
    """
    reports: List[MatrixReport] = []
    layouts = []
    for _, bilm in elmo_bilms(model):
        reports += compress_elmo_bilm(bilm, spec, progress)
        layouts.append((bilm._token_embedder._options, bilm_layout(bilm)))
    if any(layout != layouts[0] for layout in layouts[1:]):
        raise ArchiveError("the model's ELMo biLMs differ after compression; compress them one config at a time")
    return reports, *layouts[0]


def write_archive(model: Model, config: Dict[str, Any], archive_path: str) -> None:
    """Write `model` (vocabulary, state dict) with `config` and allennlp's meta.json as an archive."""
    with tempfile.TemporaryDirectory(prefix="elmo_compress_archive_") as serialization_dir:
        with open(os.path.join(serialization_dir, CONFIG_NAME), "w", encoding="utf-8") as config_file:
            json.dump(config, config_file, indent=2, sort_keys=True)
        Meta.new().to_file(os.path.join(serialization_dir, META_NAME))
        model.vocab.save_to_files(os.path.join(serialization_dir, "vocabulary"))
        torch.save(model.state_dict(), os.path.join(serialization_dir, ARCHIVE_WEIGHTS_NAME))
        archive_model(serialization_dir, weights=ARCHIVE_WEIGHTS_NAME, archive_path=archive_path)


def compress_archive(
    archive_file: str,
    spec: CompressionSpec,
    output_dir: str,
    force: bool = False,
    progress: Optional[CompressionProgress] = None,
) -> Tuple[List[MatrixReport], str]:
    """
    Load a trained archive, compress its ELMo post-training, write `output_dir/model.tar.gz`; returns the
    reports and the archive's path. The original ELMo files are not needed to load the result.
    """
    with OutputFolder(output_dir, inputs=[archive_file], names=[ARCHIVE_NAME], force=force) as output:
        archive = load_model_archive(archive_file)
        plain_elmo_bilms(archive.model, archive_file)
        reports, options, layout = compress_model(archive.model, spec, progress)
        config = compressed_config(archive.config.as_dict(quiet=True), options, layout)
        write_archive(archive.model, config, output.path(ARCHIVE_NAME))
    return reports, output.final_path(ARCHIVE_NAME)


def archive_with_compressed_weights(archive_file: str, weights_file: str, output_dir: str, force: bool = False) -> str:
    """
    Write `output_dir/model.tar.gz`: the trained archive with its ELMo replaced by the compressed weights
    file `weights_file` (from `compress`, `shrink` or `distill`; it must come from the archive's own ELMo
    weights), self-contained as `compress_archive` writes it. Returns the archive's path.
    """
    from elmo_compress.downstream.weights_rows import load_compressed_weights

    with OutputFolder(output_dir, inputs=[archive_file, weights_file], names=[ARCHIVE_NAME], force=force) as output:
        archive = load_model_archive(archive_file)
        plain_elmo_bilms(archive.model, archive_file)
        options = elmo_bilms(archive.model)[0][1]._token_embedder._options
        weights = load_compressed_weights(archive, archive_file, "", weights_file)
        replace_elmo_bilms(archive.model, weights)
        config = compressed_config(archive.config.as_dict(quiet=True), options, weights.layout())
        write_archive(archive.model, config, output.path(ARCHIVE_NAME))
    return output.final_path(ARCHIVE_NAME)


def replace_elmo_bilms(model: Model, weights: ElmoWeights, fast_path: bool = True) -> None:
    """
    Put a biLM built from `weights` (e.g. a compressed weights file) in place of every ELMo biLM of
    `model`, frozen, with fresh states, as `compressed_elmo` builds it from that file.
    """
    for name, _ in elmo_bilms(model):
        parent_name, _, attribute = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        bilm = CompressedElmoBiLm(weights=weights, requires_grad=False, runtime=RuntimeOptions(fast_path=fast_path))
        setattr(parent, attribute, bilm)
