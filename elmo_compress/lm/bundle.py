"""
A trained biLM bundle: a folder with `options.json` and `weights.hdf5` (official ELMo files that
allennlp loads unchanged) plus what only language modelling needs: `vocab.txt` and `softmax.hdf5`
(the adaptive softmax, not part of ELMo), and `training.json` (how it was trained).
"""

import json
import os
from typing import Any, Dict, Optional, Tuple

import torch

from elmo_compress.constants import OPTIONS_NAME, WEIGHTS_NAME
from elmo_compress.errors import ElmoCompressError
from elmo_compress.factorize import CompressionSpec
from elmo_compress.lm.language_model import BidirectionalLm
from elmo_compress.lm.vocabulary import LmVocabulary
from elmo_compress.modules import CompressedElmoBiLm, weights_from_bilm
from elmo_compress.modules.runtime_options import ALLENNLP_LOOP, RuntimeOptions
from elmo_compress.weights import ElmoOptions, ElmoWeights
from elmo_compress.weights.hdf5_io import read_hdf5, write_hdf5

VOCABULARY_NAME, SOFTMAX_NAME, TRAINING_NAME = "vocab.txt", "softmax.hdf5", "training.json"
BUNDLE_FILES = (OPTIONS_NAME, WEIGHTS_NAME, VOCABULARY_NAME, SOFTMAX_NAME, TRAINING_NAME)


def bundle_path(bundle_dir: str, name: str) -> str:
    return os.path.join(bundle_dir, name)


def save_softmax(softmax: torch.nn.AdaptiveLogSoftmaxWithLoss, path: str) -> None:
    datasets = {name: tensor.detach().numpy() for name, tensor in softmax.state_dict().items()}
    attributes = {
        "/": {
            "in_features": softmax.in_features,
            "n_classes": softmax.n_classes,
            "cutoffs": json.dumps(softmax.cutoffs[:-1]),
            "div_value": softmax.div_value,
        }
    }
    write_hdf5(path, datasets, attributes)


def load_softmax_into(lm: BidirectionalLm, path: str) -> None:
    datasets, attributes = read_hdf5(path)
    root = attributes.get("/", {})
    expected = (lm.softmax.in_features, lm.softmax.n_classes, lm.softmax.cutoffs[:-1])
    found = (
        int(root.get("in_features", -1)),
        int(root.get("n_classes", -1)),
        json.loads(root.get("cutoffs", "[]")),
    )
    if expected != found:
        raise ElmoCompressError(
            f"softmax {path} has (inputs, classes, cutoffs) {found}, the biLM needs {expected}"
        )
    lm.softmax.load_state_dict({name: torch.from_numpy(array) for name, array in datasets.items()})


def load_lm(
    bundle_dir: str,
    weight_file: Optional[str] = None,
    compression: Optional[CompressionSpec] = None,
    requires_grad: bool = False,
    weights: Optional[ElmoWeights] = None,
    runtime: RuntimeOptions = ALLENNLP_LOOP,
) -> Tuple[BidirectionalLm, LmVocabulary]:
    """
    The language model of a bundle; `weight_file` replaces the bundle's weights (e.g. a compressed
    file made from them), `weights` does so from memory, `compression` compresses them on the spot.
    `runtime`: how the biLM runs (default: allennlp's own loop).
    """
    if not os.path.isdir(bundle_dir):
        raise ElmoCompressError(f"biLM bundle folder not found: {bundle_dir}")
    vocabulary = LmVocabulary.load(bundle_path(bundle_dir, VOCABULARY_NAME))
    if weights is not None and weight_file is not None:
        raise ElmoCompressError("give the replacement weights as a file or in memory, not both")
    files = (None, None) if weights is not None else (
        bundle_path(bundle_dir, OPTIONS_NAME), weight_file or bundle_path(bundle_dir, WEIGHTS_NAME)
    )
    bilm = CompressedElmoBiLm(
        *files, requires_grad=requires_grad, compression=compression, runtime=runtime, weights=weights
    )
    lm = BidirectionalLm(bilm, len(vocabulary))
    load_softmax_into(lm, bundle_path(bundle_dir, SOFTMAX_NAME))
    for parameter in lm.softmax.parameters():
        parameter.requires_grad = False
    return lm, vocabulary


def training_record(bundle_dir: str) -> Dict[str, Any]:
    path = bundle_path(bundle_dir, TRAINING_NAME)
    if not os.path.isfile(path):
        return {}
    with open(path, encoding="utf-8") as record:
        return json.load(record)


def save_bundle(folder: str, lm: BidirectionalLm, options: ElmoOptions, vocabulary: LmVocabulary) -> None:
    """Write the options, weights (official ELMo files), vocabulary and softmax of `lm` into `folder`."""
    options.save(bundle_path(folder, OPTIONS_NAME))
    weights_from_bilm(lm.bilm, options).save(bundle_path(folder, WEIGHTS_NAME))
    vocabulary.save(bundle_path(folder, VOCABULARY_NAME))
    save_softmax(lm.softmax, bundle_path(folder, SOFTMAX_NAME))
