"""
Every training config evaluates with the defaults `elmo_compress` sets (demo biLM, demo tasks) and
builds its model; the compressed configs build compressed ELMo.
"""

import glob
import os
from pathlib import Path

import pytest
from allennlp.common import Params
from allennlp.data import DatasetReader, Vocabulary
from allennlp.models import Model

import allennlp_models.pair_classification  # noqa: F401  (esim, snli)
import allennlp_models.tagging  # noqa: F401  (crf_tagger)
import elmo_compress  # noqa: F401  (sets the config defaults, registers components)
from elmo_compress.modules import LowRankLinear

REPO = Path(__file__).resolve().parents[2]
CONFIGS = sorted(glob.glob(str(REPO / "training_configs" / "*" / "*.jsonnet")))


def test_every_task_has_plain_compressed_and_small_configs():
    names = {os.path.relpath(path, REPO / "training_configs") for path in CONFIGS}
    for task, model in (("snli", "esim"), ("ner", "ner"), ("sentiment", "bcn")):
        for variant in ("elmo", "compressed_elmo", "elmo_small", "compressed_elmo_small"):
            assert f"{task}/{model}_{variant}.jsonnet" in names


@pytest.mark.parametrize("path", CONFIGS, ids=lambda path: os.path.relpath(path, REPO / "training_configs"))
def test_config_builds_its_model_on_the_demo_defaults(path: str):
    params = Params.from_file(path)
    assert os.path.isfile(params["train_data_path"]) and os.path.isfile(params["validation_data_path"])
    reader = DatasetReader.from_params(params.pop("validation_dataset_reader", params["dataset_reader"]))
    instances = list(reader.read(params["validation_data_path"]))
    model = Model.from_params(vocab=Vocabulary.from_instances(instances), params=params.pop("model"))
    low_rank = [module for module in model.modules() if isinstance(module, LowRankLinear)]
    if "compressed" in path:
        assert low_rank and all(module.method == "svd" and module.rank == 16 for module in low_rank)
    else:
        assert not low_rank
