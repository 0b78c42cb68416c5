"""
The downstream part of `make demo`: train one task's small plain-ELMo config on the demo task data
with the demo biLM (`allennlp train`, in process), then sweep the trained archive post-training on
the task's test file and print the paper-style table.
"""

import json
import os
from pathlib import Path
from typing import List

from allennlp.commands.train import train_model_from_file

from elmo_compress.downstream.archive import import_plugins_quietly, load_model_archive
from elmo_compress.commands.downstream import sweep_into
from elmo_compress.downstream.sweep import read_instances, settings, validation_metric
from elmo_compress.errors import ElmoCompressError
from elmo_compress.factorize import METHODS, TARGET_CHOICES

# task: (small plain-ELMo config under training_configs/, environment variable of its test file,
# the demo's overrides). Without GloVe the sentiment config's word embedding is random and trainable,
# and BCN then learns the demo task from word identities alone, whatever ELMo says (compressing ELMo
# changed nothing measurable). Frozen, that embedding carries no learned signal, so the classifier has
# to rely on ELMo; a higher learning rate makes 15 epochs enough.
DEMO_TASKS = {
    "sentiment": (
        "sentiment/bcn_elmo_small.jsonnet",
        "SST_TEST_DATA_PATH",
        {"model.text_field_embedder.token_embedders.tokens.trainable": False, "trainer.optimizer.lr": 0.003},
    ),
    "ner": ("ner/ner_elmo_small.jsonnet", "NER_TEST_DATA_PATH", {}),
    "snli": ("snli/esim_elmo_small.jsonnet", "SNLI_TEST_DATA_PATH", {}),
}
TRAINING_CONFIGS = Path(__file__).resolve().parents[2] / "training_configs"


def train_demo_task(task: str, serialization_dir: str, epochs: int) -> str:
    """Train (or, when its archive exists, reuse) the task's small config; returns the archive path."""
    archive = os.path.join(serialization_dir, "model.tar.gz")
    if os.path.isfile(archive):
        print(f"reusing {archive} (delete {serialization_dir} to train again)")
        return archive
    config = TRAINING_CONFIGS / DEMO_TASKS[task][0]
    if not config.is_file():
        raise ElmoCompressError(f"{config} not found: the demo's downstream part runs from a source checkout")
    overrides = json.dumps({"trainer.num_epochs": epochs, "trainer.patience": epochs, **DEMO_TASKS[task][2]})
    import_plugins_quietly()  # the task's reader and model types live in allennlp_models
    train_model_from_file(str(config), serialization_dir, overrides=overrides, force=True)
    return archive


def run_downstream_demo(task: str, output_dir: str, ranks: List[int], epochs: int, batch_size: int = 32) -> None:
    folder = os.path.join(output_dir, f"downstream_{task}")
    archive_file = train_demo_task(task, os.path.join(folder, "model"), epochs)
    archive = load_model_archive(archive_file)
    test_file = os.environ[DEMO_TASKS[task][1]]  # the demo task's, unless the user points elsewhere
    instances = read_instances(archive, test_file)
    print(f"sweeping {archive_file} on {test_file} ({len(instances)} instances)")
    planned = settings(METHODS, TARGET_CHOICES, ranks)
    sweep_into(folder, archive, instances, planned, validation_metric(archive, None), batch_size)
