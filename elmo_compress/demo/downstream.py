"""
The downstream part of the demo: train one task's small plain-ELMo config on the demo task data with the
demo biLM (`allennlp train`, in process), then sweep the trained archive post-training on the task's test
file and print the paper's table.
"""

import json
import os
from pathlib import Path
from typing import List, Optional, Sequence

from allennlp.commands.train import train_model_from_file

from elmo_compress.constants import TARGET_CHOICES
from elmo_compress.downstream.archive import import_plugins_quietly
from elmo_compress.downstream.sweep import SweepRequest, run_sweep
from elmo_compress.errors import ElmoCompressError
from elmo_compress.registration import register
from elmo_compress.reporting.results import ResultRow

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
    register()
    import_plugins_quietly()  # the task's reader and model types live in allennlp_models
    train_model_from_file(str(config), serialization_dir, overrides=overrides, force=True)
    return archive


def run_downstream_demo(
    task: str,
    output_dir: str,
    methods: Sequence[str],
    ranks: Sequence[int],
    epochs: int,
    force: bool = False,
    statistics: Optional[str] = None,
) -> List[ResultRow]:
    """Train the task's model in `output_dir/downstream_TASK/model`, sweep it into `.../sweep` (`statistics`:
    calibration statistics of its ELMo, for methods that need them)."""
    folder = os.path.join(output_dir, f"downstream_{task}")
    archive_file = train_demo_task(task, os.path.join(folder, "model"), epochs)
    test_file = os.environ[DEMO_TASKS[task][1]]  # the demo task's, unless the user points elsewhere
    request = SweepRequest(archive_file, test_file, methods, TARGET_CHOICES, ranks, statistics=statistics)
    print(f"sweeping {archive_file} on {test_file}")
    return run_sweep(request, os.path.join(folder, "sweep"), force)
