"""
The downstream part of the demo: train one task's small plain-ELMo config on the demo task data with the
demo biLM (`allennlp train`, in process) once per training seed, sweep each trained archive
post-training on the task's test file, and print the table of means and sample standard deviations over
the seeds.

The default task is the compression probe (`training_configs/ner/ner_elmo_probe.jsonnet`): a CRF tagger
whose only input is ELMo's two LSTM layers (the scalar mix is fixed to leave out the character CNN), so
the tagger depends on the matrices compression changes (docs/downstream_demo.md).
"""

import json
import os
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from allennlp.commands.train import train_model_from_file

from elmo_compress.constants import TARGET_CHOICES
from elmo_compress.downstream.archive import import_plugins_quietly
from elmo_compress.downstream.seeds import aggregate_seeds
from elmo_compress.downstream.sweep import CSV_NAME, REPORT_NAMES, SweepRequest, run_sweep, write_sweep_report
from elmo_compress.errors import ElmoCompressError
from elmo_compress.outputs import OutputFolder, write_text
from elmo_compress.registration import register
from elmo_compress.reporting.results import ResultRow, rows_csv

# task: (small plain-ELMo config under training_configs/, environment variable of its test file,
# the demo's overrides, the demo's epochs). Without GloVe the sentiment config's word embedding is random
# and trainable, and BCN then learns the demo task from word identities alone, whatever ELMo says
# (compressing ELMo changed nothing measurable). Frozen, that embedding carries no learned signal, so the
# classifier has to rely on ELMo; a higher learning rate makes 15 epochs enough.
DEMO_TASKS = {
    "probe": ("ner/ner_elmo_probe.jsonnet", "NER_TEST_DATA_PATH", {}, 2),
    "sentiment": (
        "sentiment/bcn_elmo_small.jsonnet",
        "SST_TEST_DATA_PATH",
        {"model.text_field_embedder.token_embedders.tokens.trainable": False, "trainer.optimizer.lr": 0.003},
        15,
    ),
    "ner": ("ner/ner_elmo_small.jsonnet", "NER_TEST_DATA_PATH", {}, 15),
    "snli": ("snli/esim_elmo_small.jsonnet", "SNLI_TEST_DATA_PATH", {}, 15),
}
TRAINING_CONFIGS = Path(__file__).resolve().parents[2] / "training_configs"
# allennlp's default seeds (and the probe config's); seed k adds k to each.
BASE_SEEDS = {"random_seed": 13370, "numpy_seed": 1337, "pytorch_seed": 133}


def seed_overrides(seed: int) -> Dict[str, int]:
    """The config's three training seeds for the demo's training seed `seed` (0: allennlp's defaults)."""
    return {name: value + seed for name, value in BASE_SEEDS.items()}


def train_demo_task(task: str, serialization_dir: str, epochs: Optional[int], seed: int = 0) -> str:
    """Train (or, when its archive exists, reuse) the task's small config; returns the archive path."""
    archive = os.path.join(serialization_dir, "model.tar.gz")
    if os.path.isfile(archive):
        print(f"reusing {archive} (delete {serialization_dir} to train again)")
        return archive
    config = TRAINING_CONFIGS / DEMO_TASKS[task][0]
    if not config.is_file():
        raise ElmoCompressError(f"{config} not found: the demo's downstream part runs from a source checkout")
    epochs = epochs or DEMO_TASKS[task][3]
    overrides = {"trainer.num_epochs": epochs, "trainer.patience": epochs, **DEMO_TASKS[task][2], **seed_overrides(seed)}
    register()
    import_plugins_quietly()  # the task's reader and model types live in allennlp_models
    train_model_from_file(str(config), serialization_dir, overrides=json.dumps(overrides), force=True)
    return archive


def run_downstream_demo(
    task: str,
    output_dir: str,
    methods: Sequence[str],
    ranks: Sequence[int],
    epochs: Optional[int] = None,
    force: bool = False,
    seeds: int = 3,
    statistics: Optional[str] = None,
) -> List[ResultRow]:
    """
    For each training seed k, train the task's model in `output_dir/downstream_TASK/seed_k/model` and
    sweep it into `.../seed_k/sweep`; write the rows combined over the seeds (mean, sample standard
    deviation) to `output_dir/downstream_TASK/sweep.csv`, `sweep.md` and the figures. `statistics`:
    calibration statistics of its ELMo, for methods that need them.
    """
    folder = os.path.join(output_dir, f"downstream_{task}")
    test_file = os.environ[DEMO_TASKS[task][1]]  # the demo task's, unless the user points elsewhere
    per_seed = []
    request = None
    for seed in range(seeds):
        seed_folder = os.path.join(folder, f"seed_{seed}")
        archive_file = train_demo_task(task, os.path.join(seed_folder, "model"), epochs, seed)
        request = SweepRequest(archive_file, test_file, methods, TARGET_CHOICES, ranks, statistics=statistics)
        print(f"sweeping {archive_file} on {test_file} (training seed {seed})")
        per_seed.append(run_sweep(request, os.path.join(seed_folder, "sweep"), force))
    rows = aggregate_seeds(per_seed)
    with OutputFolder(folder, names=(CSV_NAME,) + REPORT_NAMES, force=True) as output:
        write_text(output.path(CSV_NAME), rows_csv(rows))
        write_sweep_report(rows, output, request)
    print(f"wrote the table over {seeds} training seed(s) to {os.path.join(folder, 'sweep.md')}")
    return rows
