"""
The accuracy sweep: evaluate a trained archive uncompressed and with its ELMo compressed every way
(methods x targets x ranks), post-training, on one evaluation file.

Every row is evaluated the way `allennlp evaluate` evaluates an archive: the archive's validation reader
and data loader (its batch size and sampler, or `batch_size`), the random seeds of its config, fresh
(stateful) ELMo states. The uncompressed row is therefore exactly what `allennlp evaluate` reports for
the archive, and each compressed row what it reports for the archive `compress-elmo archive` writes for
that setting (`compressed_elmo` runs the fast biLSTM path; `allennlp_loop=True` runs allennlp's loop in
every row instead).

Rows from compressed weights files (`compressed_weights`, name -> file) evaluate the archive with its
ELMo replaced by that file's biLM (`weights_rows`): the budgeted, activation-aware or distilled biLMs of
`compress`, `shrink` and `distill`, beside the paper's methods.

The character CNN is the same in every method row (compression leaves it alone), so its output for each
batch is computed once and reused by the later rows (`CharacterMemo`): the same tensors, bit for bit, as
computing it again.

The rows are kept in `sweep.csv` as they are computed, with what they were computed on (archive and
evaluation file digests, metric, batching, loop) in `sweep.json`: a rerun resumes, and refuses to mix
rows of another archive, file, metric or batching.
"""

import copy
import functools
import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch

from allennlp.common import Params
from allennlp.common.util import prepare_environment
from allennlp.data import DataLoader
from allennlp.evaluation import Evaluator
from allennlp.models import Model
from allennlp.models.archival import Archive

from elmo_compress.constants import UNCOMPRESSED
from elmo_compress.downstream.archive import compress_model, elmo_bilms, load_model_archive, plain_elmo_bilms, replace_elmo_bilms
from elmo_compress.downstream.weights_rows import archive_matrices, check_names, load_compressed_weights, weights_file_description
from elmo_compress.errors import CompressionSpecError, SweepError, first_line
from elmo_compress.factorize import CompressionSpec, break_even_rank
from elmo_compress.methods import METHODS
from elmo_compress.modules import FastElmoLstm, bilm_parameter_counts
from elmo_compress.outputs import OutputFolder, atomic_write_text, check_not_input, write_text
from elmo_compress.progress import bar
from elmo_compress.reporting.results import ResultRow, metric_drop, read_rows_csv, rows_csv
from elmo_compress.version import VERSION
from elmo_compress.weights import ElmoWeights, file_sha256

Setting = Tuple[str, str, int]  # method, target, rank
CSV_NAME, PROVENANCE_NAME = "sweep.csv", "sweep.json"
REPORT_NAMES = ("sweep.md", "metric_vs_rank.png", "metric_vs_parameters.png")


@dataclass(frozen=True)
class SweepRequest:
    """
    What to sweep.

    # Parameters

    archive_file : `str`
        A model.tar.gz trained with plain ELMo.
    evaluation_file : `str`
        Data the archive's validation reader reads.
    methods, targets : `Sequence[str]`
        Compression methods and targets to combine with every rank.
    ranks : `Sequence[int]`
        Ranks to try (duplicates are collapsed).
    metric : `str`, optional (default = `None`)
        `+name` (higher is better) or `-name`; the archive's `validation_metric` when `None`.
    batch_size : `int`, optional (default = `None`)
        Overrides the archive's data loader batch size, as `allennlp evaluate --batch-size` does.
    allennlp_loop : `bool`, optional (default = `False`)
        Run allennlp's timestep loop in the compressed rows too (they use the fast path otherwise).
    statistics : `str`, optional (default = `None`)
        Calibration statistics of the archive's ELMo, for methods that need them (`"asvd"`).
    compressed_weights : `Sequence[Tuple[str, str]]`, optional (default = `()`)
        (row name, compressed weights file) pairs: one more row each, the archive with that biLM.
    """

    archive_file: str
    evaluation_file: str
    methods: Sequence[str]
    targets: Sequence[str]
    ranks: Sequence[int]
    metric: Optional[str] = None
    batch_size: Optional[int] = None
    allennlp_loop: bool = False
    statistics: Optional[str] = None
    compressed_weights: Sequence[Tuple[str, str]] = ()


def _unique(values: Sequence) -> List:
    return list(dict.fromkeys(values))


def planned_settings(request: SweepRequest, shape: Tuple[int, int]) -> List[Setting]:
    """Every (method, target, rank), duplicates collapsed; every rank checked against the matrix shape."""
    for name, values in (("method", request.methods), ("target", request.targets), ("rank", request.ranks)):
        if not values:
            raise SweepError(f"the {name} list is empty: give at least one")
    limit, even = min(shape), break_even_rank(shape)
    for rank in _unique(request.ranks):
        if not 1 <= rank <= limit:
            raise SweepError(f"rank {rank} does not fit the biLM's {shape[0]} x {shape[1]} LSTM matrices (ranks 1 to {limit})")
        if rank >= even:
            raise SweepError(
                f"rank {rank} is at or above the break-even rank {even:.1f} of a {shape[0]} x {shape[1]} matrix "
                "(m n / (m + n)): its factors would store more than the dense matrix"
            )
    needing = [method for method in _unique(request.methods) if METHODS[method].needs_statistics]
    if needing and request.statistics is None:
        raise SweepError(f"method {needing[0]!r} needs calibration statistics of the archive's ELMo: pass --statistics FILE")
    return [(m, t, r) for m in _unique(request.methods) for t in _unique(request.targets) for r in _unique(request.ranks)]


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


def data_loader(archive: Archive, evaluation_file: str, batch_size: Optional[int]) -> DataLoader:
    """The data loader `allennlp evaluate` builds for this archive and file."""
    config = copy.deepcopy(archive.config)
    params = config.get("validation_data_loader", None) or config.get("data_loader")
    if batch_size:
        params["batch_size"] = batch_size
    return DataLoader.from_params(params=params, reader=archive.validation_dataset_reader, data_path=evaluation_file)


def check_evaluation_file(archive: Archive, evaluation_file: str) -> int:
    """The number of instances the archive's reader finds in the file; an unreadable file is one error line."""
    if not os.path.isfile(evaluation_file):
        raise SweepError(f"evaluation file not found: {evaluation_file}")
    reader_name = type(archive.validation_dataset_reader).__name__
    try:
        count = sum(1 for _ in archive.validation_dataset_reader.read(evaluation_file))
    except Exception as error:  # readers fail in their own ways (JSON, tree or column parsing)
        message = first_line(error)
        raise SweepError(f"cannot read {evaluation_file} with the archive's {reader_name}: {message}") from None
    if not count:
        raise SweepError(f"{evaluation_file} holds no instances for the archive's {reader_name} (wrong format?)")
    return count


def evaluate_as_allennlp(model: Model, archive: Archive, evaluation_file: str, batch_size: Optional[int]) -> Dict[str, float]:
    """`model`'s metrics on the file, computed as `allennlp evaluate` computes an archive's."""
    config = copy.deepcopy(archive.config)
    prepare_environment(config)
    evaluator_params = config.pop("evaluation", Params({}))
    evaluator_params["cuda_device"] = -1
    evaluator = Evaluator.from_params(evaluator_params)
    loader = data_loader(archive, evaluation_file, batch_size)
    loader.index_with(model.vocab)
    model.eval()
    return evaluator(model, loader)


def use_fast_path(model: Model) -> None:
    """Run every ELMo biLM of `model` with `FastElmoLstm` (what `compressed_elmo` runs)."""
    for _, bilm in elmo_bilms(model):
        if not isinstance(bilm._elmo_lstm, FastElmoLstm):
            bilm._elmo_lstm = FastElmoLstm.from_elmo_lstm(bilm._elmo_lstm)


def _counts(model: Model) -> Tuple[int, int]:
    counts = [bilm_parameter_counts(bilm) for _, bilm in elmo_bilms(model)]
    return sum(total for total, _ in counts), sum(matrices for _, matrices in counts)


class CharacterMemo:
    """
    The character encoder's output for each batch it has seen, shared by the rows of one sweep whose
    character encoder is the archive's: a batch seen again (the same character ids) gets the stored
    tensors, which are what computing them again gives. Nothing is stored while gradients are on, nor
    beyond `limit_bytes`.
    """

    def __init__(self, limit_bytes: int = 256 * 2**20) -> None:
        self.limit_bytes = limit_bytes
        self.stored_bytes = 0
        self.outputs: Dict[Tuple, Dict[str, torch.Tensor]] = {}

    def attach(self, model: Model) -> None:
        """Route every ELMo character encoder of `model` (a copy of the archive's) through the memo."""
        for name, bilm in elmo_bilms(model):
            encoder = bilm._token_embedder
            encoder.forward = functools.partial(self._forward, name, encoder.forward)

    def _forward(self, name: str, compute: Callable[[torch.Tensor], Dict[str, torch.Tensor]], inputs: torch.Tensor) -> Any:
        # inputs: (batch, timesteps, max characters) character ids
        key = (name, str(inputs.dtype), tuple(inputs.shape), hashlib.sha256(inputs.detach().cpu().contiguous().numpy().tobytes()).digest())
        if key in self.outputs:
            return self.outputs[key]
        output = compute(inputs)
        size = sum(tensor.numel() * tensor.element_size() for tensor in output.values())
        if not torch.is_grad_enabled() and self.stored_bytes + size <= self.limit_bytes:
            self.outputs[key] = output
            self.stored_bytes += size
        return output


def evaluate_setting(
    archive: Archive,
    setting: Optional[Setting],
    request: SweepRequest,
    metric: Tuple[str, bool],
    baseline: Optional[ResultRow],
    memo: Optional[CharacterMemo] = None,
) -> ResultRow:
    """One row: a fresh copy of the archived model, compressed as `setting` says (`None`: not at all)."""
    model = copy.deepcopy(archive.model)
    if memo is not None:
        memo.attach(model)
    errors: List[float] = []
    if setting is not None:
        method, target, rank = setting
        block = {"method": method, "target": target, "rank": rank}
        if METHODS[method].needs_statistics:
            block["statistics"] = request.statistics
        spec = CompressionSpec.from_dict(block)
        try:
            reports, _, _ = compress_model(model, spec)
        except CompressionSpecError as error:
            raise SweepError(f"setting {method} {target} rank {rank}: {error}") from None
        errors = [report.relative_error for report in reports if report.method != "dense"]
        if not request.allennlp_loop:
            use_fast_path(model)
    labels = setting or (UNCOMPRESSED, UNCOMPRESSED, None)
    return _row(model, archive, request, metric, baseline, labels, errors)


def evaluate_weights_file(
    archive: Archive, name: str, weights: ElmoWeights, request: SweepRequest, metric: Tuple[str, bool], baseline: ResultRow
) -> ResultRow:
    """One row: a fresh copy of the archived model with the biLM of a compressed weights file."""
    target, rank, errors = weights_file_description(weights, archive_matrices(archive))
    model = copy.deepcopy(archive.model)
    replace_elmo_bilms(model, weights, fast_path=not request.allennlp_loop)
    return _row(model, archive, request, metric, baseline, (name, target, rank), errors)


def _row(
    model: Model,
    archive: Archive,
    request: SweepRequest,
    metric: Tuple[str, bool],
    baseline: Optional[ResultRow],
    labels: Tuple[str, str, Optional[int]],
    errors: List[float],
) -> ResultRow:
    metrics = evaluate_as_allennlp(model, archive, request.evaluation_file, request.batch_size)
    name, higher_is_better = metric
    if name not in metrics:
        raise SweepError(f"the model reports no metric {name!r}; it has: {', '.join(sorted(metrics))}")
    value = float(metrics[name])
    bilm_parameters, matrix_parameters = _counts(model)
    return ResultRow(
        method=labels[0],
        target=labels[1],
        rank=labels[2],
        metric_name=name,
        metric=value,
        metric_drop=0.0 if baseline is None else metric_drop(baseline.metric, value, higher_is_better),
        bilm_parameters=bilm_parameters,
        lstm_matrix_parameters=matrix_parameters,
        mean_relative_error=sum(errors) / len(errors) if errors else None,
    )


def provenance(request: SweepRequest, metric: Tuple[str, bool]) -> Dict[str, object]:
    """What the rows are computed on; a resumed sweep must match it (the statistics file too, when given)."""
    statistics = {} if request.statistics is None else {"statistics_sha256": file_sha256(request.statistics)}
    return {
        **statistics,
        "archive_sha256": file_sha256(request.archive_file),
        "evaluation_file_sha256": file_sha256(request.evaluation_file),
        "metric": ("+" if metric[1] else "-") + metric[0],
        "batch_size": request.batch_size,
        "compressed_rows_loop": "allennlp" if request.allennlp_loop else "fast path",
        "evaluation": "as allennlp evaluate: the archive's data loader and seeds, stateful ELMo from fresh states",
    }


FILES_KEY = "compressed_weights_sha256"  # row name -> the file it was computed from


def _earlier_rows(output_dir: str, record: Dict[str, Any], force: bool) -> List[ResultRow]:
    """
    Rows of an earlier run of the same sweep in `output_dir`, for resuming (none with `force`). The
    record's compressed weights files are merged into `record`: a name keeps the file it was computed from.
    """
    csv_path, record_path = os.path.join(output_dir, CSV_NAME), os.path.join(output_dir, PROVENANCE_NAME)
    if force:
        return []
    if not os.path.isfile(record_path):
        foreign = [name for name in (CSV_NAME,) + REPORT_NAMES if os.path.exists(os.path.join(output_dir, name))]
        if foreign:
            raise SweepError(
                f"{os.path.join(output_dir, foreign[0])} exists but is not from a sweep of this tool "
                f"(no {PROVENANCE_NAME}); pass --force to replace it or pick another -o"
            )
        return []
    if not os.path.exists(csv_path):
        return []
    with open(record_path, encoding="utf-8") as file:
        earlier = json.load(file)
    ignored = ("elmo_compress_version", FILES_KEY)
    differing = [key for key in record if key not in ignored and earlier.get(key) != record[key]]
    earlier_files = earlier.get(FILES_KEY, {})
    differing += [f"file for the row {name!r}" for name, digest in record[FILES_KEY].items() if earlier_files.get(name, digest) != digest]
    if differing:
        raise SweepError(
            f"the rows in {csv_path} were computed with another {', '.join(differing)}; "
            "pass --force to start over or pick another -o"
        )
    record[FILES_KEY] = {**earlier_files, **record[FILES_KEY]}
    with open(csv_path, encoding="utf-8", newline="") as file:
        return read_rows_csv(file.read(), csv_path)


def run_sweep(request: SweepRequest, output_dir: str, force: bool = False) -> List[ResultRow]:
    """
    Check everything, evaluate the uncompressed model, each setting and each compressed weights file
    (resuming an earlier run of the same sweep), keeping `sweep.csv` up to date after every row, then
    write the table and figures.
    """
    inputs = [request.archive_file, request.evaluation_file, request.statistics]
    inputs += [path for _, path in request.compressed_weights]
    check_not_input([], inputs, folder=output_dir)
    if os.path.exists(output_dir) and not os.path.isdir(output_dir):
        raise SweepError(f"the output folder {output_dir} is an existing file")
    check_names(request.compressed_weights)
    archive = load_model_archive(request.archive_file)
    bilms = plain_elmo_bilms(archive.model, request.archive_file)
    cell = bilms[0][1]._elmo_lstm.forward_layer_0
    planned = planned_settings(request, tuple(cell.input_linearity.weight.shape))
    files = {name: load_compressed_weights(archive, request.archive_file, name, path) for name, path in request.compressed_weights}
    metric = validation_metric(archive, request.metric)
    check_evaluation_file(archive, request.evaluation_file)
    record = {**provenance(request, metric), "elmo_compress_version": VERSION}
    record[FILES_KEY] = {name: file_sha256(path) for name, path in request.compressed_weights}
    rows = _earlier_rows(output_dir, record, force)
    report = OutputFolder(output_dir, names=REPORT_NAMES, force=True)  # regenerated from the rows each run
    with report:
        os.makedirs(output_dir, exist_ok=True)
        atomic_write_text(os.path.join(output_dir, PROVENANCE_NAME), json.dumps(record, indent=1) + "\n")
        rows = _evaluate_missing(archive, planned, files, request, metric, rows, os.path.join(output_dir, CSV_NAME))
        write_sweep_report(rows, report, request)
    return rows


def _evaluate_missing(
    archive: Archive,
    planned: List[Setting],
    files: Dict[str, ElmoWeights],
    request: SweepRequest,
    metric: Tuple[str, bool],
    rows: List[ResultRow],
    csv_path: str,
) -> List[ResultRow]:
    done = {(row.method, row.target, -1 if row.rank is None else row.rank) for row in rows}
    memo = CharacterMemo()
    if (UNCOMPRESSED, UNCOMPRESSED, -1) not in done:
        rows.insert(0, evaluate_setting(archive, None, request, metric, None, memo))
        atomic_write_text(csv_path, rows_csv(rows))
    baseline = next(row for row in rows if row.is_uncompressed)
    todo: List[Any] = [setting for setting in planned if setting not in done]
    todo += [name for name in files if name not in {row.method for row in rows}]
    progress = bar(len(todo), "sweep", unit="row")
    for item in todo:
        if isinstance(item, str):
            progress.set_postfix_str(item)
            rows.append(evaluate_weights_file(archive, item, files[item], request, metric, baseline))
        else:
            progress.set_postfix_str(" ".join(map(str, item)))
            rows.append(evaluate_setting(archive, item, request, metric, baseline, memo))
        atomic_write_text(csv_path, rows_csv(rows))
        progress.update(1)
    progress.close()
    return rows


def write_sweep_report(rows: List[ResultRow], output: OutputFolder, request: SweepRequest) -> None:
    from elmo_compress.downstream.report import plot_metric_vs_parameters, sweep_markdown
    from elmo_compress.reporting.results import plot_metric_vs_rank

    methods = _unique([row.method for row in rows if not row.is_uncompressed])
    write_text(output.path("sweep.md"), sweep_markdown(rows, methods, request))
    baseline = rows[0]
    title = f"{baseline.metric_name} after post-training compression of ELMo, by rank"
    plot_metric_vs_rank(rows, methods, output.path("metric_vs_rank.png"), title)
    plot_metric_vs_parameters(rows, methods, output.path("metric_vs_parameters.png"))
