"""
Post-training compression of a trained allennlp archive: find the ELMo biLM(s) in the model,
compress their LSTM matrices in place, and write an archive whose config builds the compressed
components (`compressed_elmo`, `bcn_compressed_elmo`) and whose weights hold the factors, so that
`allennlp evaluate` / `allennlp predict --include-package elmo_compress` load it like any other.
"""

import contextlib
import copy
import io
import json
import logging
import os
import shutil
import sys
import tempfile
from typing import Any, Dict, Iterator, List, Tuple

import torch
from allennlp.common.plugins import import_plugins
from allennlp.models import Model
from allennlp.models.archival import CONFIG_NAME, Archive, archive_model, load_archive
from allennlp.modules.elmo import _ElmoBiLm

from elmo_compress.atomic import atomic_output
from elmo_compress.errors import ElmoCompressError
from elmo_compress.factorize import CompressionSpec
from elmo_compress.modules import compress_elmo_bilm
from elmo_compress.weights import MatrixReport

# Token embedder type -> its compressed counterpart (same arguments plus `compression`).
COMPRESSED_EMBEDDERS = {"elmo_token_embedder": "compressed_elmo"}
# Model types that take `elmo` directly -> the type whose `elmo` is a `CompressedElmo`.
COMPRESSED_MODELS = {"bcn": "bcn_compressed_elmo"}
WEIGHTS_NAME = "best.th"

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


def load_model_archive(archive_file: str) -> Archive:
    """
    `load_archive` on CPU, after importing allennlp's plugins (allennlp_models, whose model and
    reader types archives name) as `allennlp evaluate` does; a bad file is one error line.
    """
    if not os.path.isfile(archive_file):
        raise ArchiveError(f"archive not found: {archive_file}")
    import_plugins_quietly()
    try:
        return load_archive(archive_file, cuda_device=-1)
    except Exception as error:  # allennlp raises many kinds (tarfile, JSON, config, state dict)
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ArchiveError(f"cannot load archive {archive_file}: {message}") from None


def elmo_bilms(model: torch.nn.Module) -> List[Tuple[str, _ElmoBiLm]]:
    """(module name, biLM) of every ELMo biLM inside `model`, in module order."""
    return [(name, module) for name, module in model.named_modules() if isinstance(module, _ElmoBiLm)]


def _rewrite_elmo_blocks(config: Any, block: Dict[str, Any]) -> int:
    """Turn every ELMo block of `config` (in place) into its compressed form; returns how many."""
    count = 0
    if isinstance(config, dict):
        if config.get("type") in COMPRESSED_EMBEDDERS:
            config["type"] = COMPRESSED_EMBEDDERS[config["type"]]
            config["compression"] = block
            count += 1
        if config.get("type") in COMPRESSED_MODELS and isinstance(config.get("elmo"), dict):
            config["type"] = COMPRESSED_MODELS[config["type"]]
            config["elmo"]["compression"] = block
            count += 1
        for value in config.values():
            count += _rewrite_elmo_blocks(value, block)
    elif isinstance(config, list):
        for value in config:
            count += _rewrite_elmo_blocks(value, block)
    return count


def compressed_config(config: Dict[str, Any], spec: CompressionSpec) -> Dict[str, Any]:
    """
    A copy of a training config whose ELMo is built compressed as `spec` says: each
    `elmo_token_embedder` becomes `compressed_elmo`, a `bcn` model `bcn_compressed_elmo`.
    """
    rewritten = copy.deepcopy(config)
    found = _rewrite_elmo_blocks(rewritten.get("model"), spec.to_dict())
    if not found:
        known = ", ".join(sorted(COMPRESSED_EMBEDDERS) + [f"model type {name!r}" for name in COMPRESSED_MODELS])
        raise ArchiveError(f"the archive's model config has no ELMo block this tool can compress ({known})")
    return rewritten


def compress_model(model: Model, spec: CompressionSpec) -> List[MatrixReport]:
    """Compress every ELMo biLM of `model` in place; an error if it has none."""
    bilms = elmo_bilms(model)
    if not bilms:
        raise ArchiveError(f"the model ({type(model).__name__}) has no ELMo biLM to compress")
    reports: List[MatrixReport] = []
    for _, bilm in bilms:
        reports += compress_elmo_bilm(bilm, spec)
    return reports


def write_archive(model: Model, config: Dict[str, Any], archive_path: str) -> None:
    """Write `model` (its vocabulary and state dict) with `config` as an allennlp archive, atomically."""
    serialization_dir = tempfile.mkdtemp(prefix="elmo_compress_archive_")
    try:
        with open(os.path.join(serialization_dir, CONFIG_NAME), "w", encoding="utf-8") as config_file:
            json.dump(config, config_file, indent=2, sort_keys=True)
        model.vocab.save_to_files(os.path.join(serialization_dir, "vocabulary"))
        torch.save(model.state_dict(), os.path.join(serialization_dir, WEIGHTS_NAME))
        with atomic_output(archive_path) as temporary:
            archive_model(serialization_dir, weights=WEIGHTS_NAME, archive_path=temporary)
    finally:
        shutil.rmtree(serialization_dir, ignore_errors=True)


def compress_archive(archive_file: str, spec: CompressionSpec, output_file: str) -> List[MatrixReport]:
    """Load a trained archive, compress its ELMo post-training, write the compressed archive."""
    archive = load_model_archive(archive_file)
    config = compressed_config(archive.config.as_dict(quiet=True), spec)
    reports = compress_model(archive.model, spec)
    output_dir = os.path.dirname(os.path.abspath(output_file))
    os.makedirs(output_dir, exist_ok=True)
    write_archive(archive.model, config, output_file)
    return reports
