"""
The accuracy sweep: evaluate a trained archive uncompressed and with its ELMo compressed every way
(methods x targets x ranks), post-training, on one evaluation file. Each row records the task
metric, its drop from the uncompressed model, the ELMo parameter count and the time spent in the
ELMo forward pass relative to the uncompressed model (measured in the same run).
"""

import copy
import csv
import os
import time
from dataclasses import asdict, dataclass, fields
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import torch
from allennlp.common.tqdm import Tqdm
from allennlp.data import Instance
from allennlp.data.data_loaders import SimpleDataLoader
from allennlp.models import Model
from allennlp.models.archival import Archive

from elmo_compress.atomic import atomic_output
from elmo_compress.downstream.archive import ArchiveError, compress_model, elmo_bilms
from elmo_compress.errors import CompressionSpecError, SweepError
from elmo_compress.factorize import CompressionSpec
from elmo_compress.modules.export import matrix_from_linear
from elmo_compress.modules.fast_lstm import FastElmoLstm
from elmo_compress.modules.surgery import lstm_cells
from elmo_compress.weights.layout import TARGET_ATTRIBUTES, TARGETS

Setting = Tuple[str, str, int]  # method, target, rank


@dataclass
class SweepRow:
    method: str  # "none" for the uncompressed model
    target: str  # "none" for the uncompressed model
    rank: Optional[int]
    metric_name: str
    metric: float
    metric_drop: float  # uncompressed minus compressed when higher is better, the reverse otherwise
    elmo_parameters: int
    lstm_matrix_parameters: int
    elmo_seconds: float
    relative_time: float  # ELMo forward time / the uncompressed model's, same run

    @property
    def setting(self) -> Setting:
        return (self.method, self.target, -1 if self.rank is None else int(self.rank))


def read_instances(archive: Archive, path: str) -> List[Instance]:
    """The evaluation instances, read with the archive's validation reader; bad files are one error line."""
    if not os.path.isfile(path):
        raise SweepError(f"evaluation file not found: {path}")
    reader = archive.validation_dataset_reader
    reader_name = type(reader).__name__
    try:
        instances = list(reader.read(path))
    except Exception as error:  # readers fail in their own ways (JSON, tree or column parsing)
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise SweepError(f"cannot read {path} with the archive's {reader_name}: {message}") from None
    if not instances:
        raise SweepError(f"{path} holds no instances for the archive's {reader_name} (wrong format?)")
    return instances


def validation_metric(archive: Archive, metric: Optional[str]) -> Tuple[str, bool]:
    """(metric name, higher is better): `metric` if given ("+name" / "-name"), else the trainer's."""
    chosen = metric or archive.config.get("trainer", {}).get("validation_metric", None)
    if isinstance(chosen, list):
        chosen = chosen[0]
    if not chosen:
        raise SweepError("the archive's trainer names no validation_metric; pass --metric +NAME or -NAME")
    if chosen[0] in "+-":
        return chosen[1:], chosen[0] == "+"
    return chosen, True


def _timed(model: Model) -> Callable[[], float]:
    """Hooks every ELMo biLM of `model`; the returned function gives the seconds spent in them so far."""
    spent = [0.0]
    started: Dict[int, float] = {}

    def before(module: torch.nn.Module, _inputs: object) -> None:
        started[id(module)] = time.perf_counter()

    def after(module: torch.nn.Module, _inputs: object, _output: object) -> None:
        spent[0] += time.perf_counter() - started.pop(id(module))

    for _, bilm in elmo_bilms(model):
        bilm.register_forward_pre_hook(before)
        bilm.register_forward_hook(after)
    return lambda: spent[0]


def use_fast_path(model: Model, fast_path: bool = True) -> None:
    """
    Run every ELMo biLM of `model` with `FastElmoLstm` (what `compressed_elmo` runs at inference,
    same outputs to float rounding), or, with `fast_path=False`, allennlp's own timestep loop.
    """
    for _, bilm in elmo_bilms(model):
        if not isinstance(bilm._elmo_lstm, FastElmoLstm):
            bilm._elmo_lstm = FastElmoLstm.from_elmo_lstm(bilm._elmo_lstm)
        bilm._elmo_lstm.use_fast_path = fast_path


def evaluate_model(model: Model, instances: List[Instance], batch_size: int) -> Tuple[Dict[str, float], float]:
    """(metrics, seconds in ELMo) of `model` on `instances`, from fresh (reset) ELMo states."""
    for _, bilm in elmo_bilms(model):
        bilm._elmo_lstm.reset_states()
    seconds = _timed(model)
    loader = SimpleDataLoader(instances, batch_size, vocab=model.vocab)
    model.eval()
    model.get_metrics(reset=True)
    with torch.no_grad():
        for batch in loader:
            model(**batch)
    return model.get_metrics(reset=True), seconds()


def elmo_parameter_counts(model: Model) -> Tuple[int, int]:
    """(every ELMo biLM parameter, the LSTM W_i + W_h share), counting what compression stores."""
    total = matrices = 0
    for _, bilm in elmo_bilms(model):
        dense = stored = 0
        for _, _, cell in lstm_cells(bilm._elmo_lstm):
            for target in TARGETS:
                linear = getattr(cell, TARGET_ATTRIBUTES[target])
                dense += sum(parameter.numel() for name, parameter in linear.named_parameters() if name != "bias")
                stored += matrix_from_linear(linear).num_parameters()
        total += sum(parameter.numel() for parameter in bilm.parameters()) - dense + stored
        matrices += stored
    return total, matrices


def settings(methods: Sequence[str], targets: Sequence[str], ranks: Sequence[int]) -> List[Setting]:
    for name, values in (("method", methods), ("target", targets), ("rank", ranks)):
        if not values:
            raise SweepError(f"the {name} list is empty: give at least one")
    return [(method, target, rank) for method in methods for target in targets for rank in ranks]


def read_rows(path: str) -> List[SweepRow]:
    """Rows of an earlier run's CSV (resuming); none when there is no file."""
    if not os.path.isfile(path):
        return []
    converters = {"rank": lambda v: int(v) if v else None, "metric": float, "metric_drop": float}
    converters.update({"elmo_parameters": int, "lstm_matrix_parameters": int})
    converters.update({"elmo_seconds": float, "relative_time": float})
    with open(path, encoding="utf-8", newline="") as table:
        try:
            return [
                SweepRow(**{f.name: converters.get(f.name, str)(record[f.name]) for f in fields(SweepRow)})
                for record in csv.DictReader(table)
            ]
        except (KeyError, ValueError, TypeError) as error:
            raise SweepError(
                f"{path} is not a sweep CSV of this tool ({error}); move it or pick another -o"
            ) from None


def write_rows(rows: Iterable[SweepRow], path: str) -> None:
    with atomic_output(path) as temporary:
        with open(temporary, "w", encoding="utf-8", newline="") as table:
            writer = csv.DictWriter(table, fieldnames=[f.name for f in fields(SweepRow)])
            writer.writeheader()
            writer.writerows(asdict(row) for row in rows)


def _row(
    model: Model,
    setting: Optional[Setting],
    instances: List[Instance],
    metric: Tuple[str, bool],
    baseline: Optional[SweepRow],
    batch_size: int,
    fast_path: bool,
) -> SweepRow:
    use_fast_path(model, fast_path)
    if setting is not None:
        method, target, rank = setting
        compress_model(model, CompressionSpec.from_dict({"method": method, "target": target, "rank": rank}))
    metrics, seconds = evaluate_model(model, instances, batch_size)
    name, higher_is_better = metric
    if name not in metrics:
        raise SweepError(f"the model reports no metric {name!r}; it has: {', '.join(sorted(metrics))}")
    value = float(metrics[name])
    drop = 0.0 if baseline is None else (baseline.metric - value) * (1 if higher_is_better else -1)
    elmo_parameters, matrix_parameters = elmo_parameter_counts(model)
    return SweepRow(
        method=setting[0] if setting else "none",
        target=setting[1] if setting else "none",
        rank=setting[2] if setting else None,
        metric_name=name,
        metric=value,
        metric_drop=drop,
        elmo_parameters=elmo_parameters,
        lstm_matrix_parameters=matrix_parameters,
        elmo_seconds=seconds,
        relative_time=seconds / baseline.elmo_seconds if baseline else 1.0,
    )


def run_sweep(
    archive: Archive,
    instances: List[Instance],
    planned: List[Setting],
    csv_path: str,
    metric: Tuple[str, bool],
    batch_size: int = 32,
    fast_path: bool = True,
) -> List[SweepRow]:
    """
    Evaluate the uncompressed model and then each planned setting on a fresh copy of the archived
    model, writing the CSV after every row. Rows already in `csv_path` are kept and skipped. Every
    row runs ELMo's biLSTM through the fast path (`fast_path=False`: allennlp's loop), so the times
    compare what a compressed model costs at inference.
    """
    if not elmo_bilms(archive.model):
        raise ArchiveError(f"the archived model ({type(archive.model).__name__}) has no ELMo biLM")
    rows = read_rows(csv_path)
    done = {row.setting for row in rows}
    if (("none", "none", -1)) not in done:
        rows.insert(0, _row(copy.deepcopy(archive.model), None, instances, metric, None, batch_size, fast_path))
        write_rows(rows, csv_path)
    baseline = next(row for row in rows if row.method == "none")
    todo = [setting for setting in planned if setting not in done]
    for setting in Tqdm.tqdm(todo, desc="sweep"):
        try:
            row = _row(copy.deepcopy(archive.model), setting, instances, metric, baseline, batch_size, fast_path)
        except CompressionSpecError as error:
            raise SweepError(f"setting {setting}: {error}") from None
        rows.append(row)
        write_rows(rows, csv_path)
    return rows
