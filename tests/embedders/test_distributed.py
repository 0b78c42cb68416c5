"""
elmo_compress under DistributedDataParallel on CPU (gloo, two processes), as allennlp's
`"distributed": {"cuda_devices": [-1, -1]}` runs it:

- directly: a `compressed_elmo` embedder with trainable low-rank factors, the fast path's
  TorchScript loop and stateful ELMo states, wrapped in DDP; each rank sees batches of its own
  shapes; after the optimizer steps both ranks must hold the same parameters (gradients were
  averaged through the compressed layers) and each keeps its own ELMo state;
- end to end: `allennlp train` of the small compressed NER config with two CPU workers, against a
  single-process run of the same config (same metric keys, finite losses), then `allennlp evaluate`
  of the distributed run's archive.
"""

import json
import math
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from elmo_compress.constants import DEMO_TASKS_DIR as DEMO_TASKS
from elmo_compress.modules import LowRankLinear

from tests.helpers import write_random_bilm

REPO = Path(__file__).resolve().parents[2]
NER_CONFIG = REPO / "training_configs" / "ner" / "ner_compressed_elmo_small.jsonnet"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ddp_worker(rank: int, world_size: int, port: int, options_file: str, weight_file: str, out: str) -> None:
    torch.set_num_threads(1)
    import elmo_compress  # noqa: F401  (a spawned process starts bare)
    from allennlp.modules.elmo import batch_to_ids

    from elmo_compress.embedders import CompressedElmoTokenEmbedder

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world_size)
    torch.manual_seed(0)  # same initial scalar mix on both ranks (DDP also broadcasts rank 0's)
    embedder = CompressedElmoTokenEmbedder(
        options_file,
        weight_file,
        dropout=0.0,
        requires_grad=True,
        compression={"method": "svd", "target": "both", "rank": 3},
    )
    model = torch.nn.parallel.DistributedDataParallel(embedder)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    # Different batch sizes and lengths per rank and per step.
    sentences = [["a", "b", "c", "d"], ["e", "f"], ["g"]]
    for step in range(2):
        batch = sentences[: 3 - rank - step] if rank + step < 3 else sentences[:1]
        batch = [sentence * (rank + 1) for sentence in batch]
        character_ids = batch_to_ids(batch)
        optimizer.zero_grad()
        model(character_ids).pow(2).mean().backward()
        optimizer.step()
    low_rank = [module for module in embedder.modules() if isinstance(module, LowRankLinear)]
    gradients = [module.right.weight.grad for module in low_rank]
    flat = torch.cat([parameter.detach().flatten() for parameter in embedder.parameters()])
    gathered = [torch.zeros_like(flat) for _ in range(world_size)]
    dist.all_gather(gathered, flat)
    bilm_lstm = embedder._elmo._elmo_lstm._elmo_lstm
    result = {
        "low_rank_layers": len(low_rank),
        "all_factor_gradients_nonzero": all(g is not None and bool(g.abs().sum() > 0) for g in gradients),
        "max_parameter_difference": max(float((other - flat).abs().max()) for other in gathered),
        "state_batch_size": None if bilm_lstm._states is None else bilm_lstm._states[0].size(1),
        "fast_lstm": type(bilm_lstm).__name__,
    }
    with open(os.path.join(out, f"rank{rank}.json"), "w") as handle:
        json.dump(result, handle)
    dist.destroy_process_group()


def test_compressed_elmo_under_ddp_keeps_ranks_in_sync(tmp_path: Path):
    options_file, weight_file = write_random_bilm(tmp_path / "bilm")
    mp.spawn(
        _ddp_worker,
        args=(2, _free_port(), options_file, weight_file, str(tmp_path)),
        nprocs=2,
        join=True,
    )
    results = [json.loads((tmp_path / f"rank{rank}.json").read_text()) for rank in range(2)]
    for result in results:
        assert result["fast_lstm"] == "FastElmoLstm"
        assert result["low_rank_layers"] == 8  # 2 layers x 2 directions x (W_i, W_h)
        assert result["all_factor_gradients_nonzero"]
        assert result["max_parameter_difference"] == 0.0
    # each process carries its own state, sized by the largest batch it saw
    assert [result["state_batch_size"] for result in results] == [3, 2]


def _conll_sentences(path: Path) -> List[str]:
    blocks = path.read_text().split("\n\n")
    return [block.strip("\n") for block in blocks if block.strip() and not block.startswith("-DOCSTART-")]


def _train(serialization_dir: Path, environment: Dict[str, str], overrides: dict) -> Dict[str, float]:
    completed = subprocess.run(
        [
            sys.executable, "-m", "allennlp", "train", str(NER_CONFIG), "-s", str(serialization_dir),
            "--include-package", "elmo_compress", "-o", json.dumps(overrides),
        ],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert (serialization_dir / "model.tar.gz").exists()
    return json.loads((serialization_dir / "metrics.json").read_text())


def _model_metric_keys(metrics: Dict[str, float]) -> set:
    # allennlp adds one memory entry per worker ("training_worker_1_memory_MB", ...)
    return {key for key in metrics if "_memory_MB" not in key}


@pytest.mark.slow
def test_small_ner_config_trains_with_two_cpu_workers(tmp_path: Path):
    sentences = _conll_sentences(Path(DEMO_TASKS) / "ner" / "train.txt")
    train, dev = tmp_path / "train.txt", tmp_path / "dev.txt"
    train.write_text("\n\n".join(sentences[:48]) + "\n\n")
    dev.write_text("\n\n".join(sentences[48:64]) + "\n\n")
    environment = {
        **os.environ,
        "NER_TRAIN_DATA_PATH": str(train),
        "NER_DEV_DATA_PATH": str(dev),
        "OMP_NUM_THREADS": "1",  # two workers on a small machine: one thread each (docs/runtime.md)
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    # allennlp 2.10's SpanBasedF1Measure refuses distributed aggregation: train on accuracy, and
    # compute span F1 afterwards with a single-process `allennlp evaluate` (below).
    overrides = {
        "trainer.num_epochs": 1,
        "data_loader.batch_size": 8,
        "model.calculate_span_f1": False,
        "trainer.validation_metric": "+accuracy",
        # trainable biLM: DDP averages the low-rank factors' gradients through the TorchScript loop
        "model.text_field_embedder.token_embedders.elmo.requires_grad": True,
    }
    single = _train(tmp_path / "single", environment, overrides)
    distributed = _train(
        tmp_path / "distributed", environment, {**overrides, "distributed": {"cuda_devices": [-1, -1]}}
    )
    assert _model_metric_keys(distributed) == _model_metric_keys(single)
    for metrics in (single, distributed):
        assert math.isfinite(metrics["training_loss"]) and math.isfinite(metrics["validation_loss"])

    evaluation = tmp_path / "evaluation.json"
    completed = subprocess.run(
        [
            sys.executable, "-m", "allennlp", "evaluate", str(tmp_path / "distributed" / "model.tar.gz"),
            str(dev), "--output-file", str(evaluation), "--include-package", "elmo_compress",
            "-o", json.dumps({"model.calculate_span_f1": True}),
        ],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    evaluated = json.loads(evaluation.read_text())
    assert math.isfinite(evaluated["loss"]) and 0.0 <= evaluated["f1-measure-overall"] <= 1.0
