"""
`shrink`: calibrate -> allocate -> factorize -> reconstruct -> distill, in one call. Every stage prints
what it did (the parameters, and the held-out perplexity when the weights sit in a bilm bundle with a
softmax); the compressed weights, their options, the compression block, the calibration statistics and a
report are written as one set.
"""

import json
import os
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable, Dict, List, Optional

from elmo_compress.calibration.collect import (
    DEFAULT_CALIBRATION_SENTENCES,
    calibration_sentences,
    load_or_compute_statistics,
)
from elmo_compress.calibration.statistics import InputStatistics, load_statistics_for, weights_lstm_sha256
from elmo_compress.constants import MATRIX_TARGETS, OPTIONS_NAME, RECONSTRUCT_STEPS, WEIGHTS_NAME
from elmo_compress.data import default_split
from elmo_compress.downstream.task_text import read_text
from elmo_compress.distill import DistillSettings, distill_weights
from elmo_compress.distill.reconstruct import ReconstructSettings, reconstruct_weights
from elmo_compress.errors import ElmoCompressError
from elmo_compress.factorize.checks import check_share, is_int
from elmo_compress.outputs import OutputFolder, write_text
from elmo_compress.reporting.compression import compression_summary
from elmo_compress.shrink.allocation import (
    ALLOCATION_METHODS,
    DEFAULT_WEIGHTING,
    WEIGHTINGS,
    Allocation,
    allocate,
    lstm_matrices,
    parameter_budget,
)
from elmo_compress.weights import ElmoWeights, MatrixReport, compress_weights, file_sha256
from elmo_compress.weights.compress import matrix_report

COMPRESSION_NAME, STATISTICS_NAME, REPORT_NAME = "compression.json", "statistics.npz", "shrink_report.json"
SHRINK_OUTPUTS = (WEIGHTS_NAME, OPTIONS_NAME, COMPRESSION_NAME, STATISTICS_NAME, REPORT_NAME)


@dataclass(frozen=True)
class ShrinkSettings:
    """
    # Parameters

    budget : `float`
        Share of the dense LSTM W_i + W_h parameters the factors may store, in (0, 1].
    method : `str`, optional (default = `"asvd"`)
        `"asvd"` (activation-aware SVD) or `"svd"` (plain SVD, allocated by its predicted output error).
    weighting : `str`, optional (default = `"measured"`)
        How errors of different matrices add up in the allocation (`shrink.allocation.WEIGHTINGS`).
    calibration_sentences : `int`, optional (default = `2000`)
        Calibration sentences, spread evenly over the text (fewer when the text has fewer).
    reconstruct_steps : `int`, optional (default = `500`)
        Teacher-forced reconstruction steps per cell after factorizing, on the calibration sentences
        (0: none; `elmo_compress.distill.reconstruct`).
    distill_steps : `int`, optional (default = `0`)
        End-to-end distillation steps after that, on the text (0: none).
    distill_train : `str`, optional (default = `"all"`)
        What reconstruction and distillation train: `"factors"` (the compressed matrices) or `"all"`
        (every LSTM parameter: factors, biases, state projections).
    seed : `int`, optional (default = `0`)
    """

    budget: float
    method: str = "asvd"
    weighting: str = DEFAULT_WEIGHTING
    calibration_sentences: int = DEFAULT_CALIBRATION_SENTENCES
    reconstruct_steps: int = RECONSTRUCT_STEPS
    distill_steps: int = 0
    distill_train: str = "all"
    seed: int = 0

    def __post_init__(self) -> None:
        check_share("budget", self.budget)
        if self.method not in ALLOCATION_METHODS:
            raise ElmoCompressError(
                f"shrink: method must be one of {', '.join(ALLOCATION_METHODS)}, got {self.method!r}"
            )
        if self.weighting not in WEIGHTINGS:
            raise ElmoCompressError(
                f"shrink: weighting must be one of {', '.join(WEIGHTINGS)}, got {self.weighting!r}"
            )
        counts = (("calibration_sentences", 1), ("reconstruct_steps", 0), ("distill_steps", 0), ("seed", 0))
        for name, least in counts:
            if not is_int(getattr(self, name)) or getattr(self, name) < least:
                raise ElmoCompressError(
                    f"shrink: {name} must be an integer >= {least}, got {getattr(self, name)!r}"
                )


def bundle_folder(weight_file: str) -> Optional[str]:
    """The bilm bundle (weights beside a softmax and a vocabulary) `weight_file` belongs to, if any."""
    from elmo_compress.lm.bundle import SOFTMAX_NAME, VOCABULARY_NAME

    folder = os.path.dirname(os.path.abspath(weight_file))
    has_all = all(
        os.path.isfile(os.path.join(folder, name)) for name in (SOFTMAX_NAME, VOCABULARY_NAME, OPTIONS_NAME)
    )
    return folder if has_all else None


def held_out_perplexity(bundle: str, weights: ElmoWeights) -> float:
    """Mean held-out perplexity (full embedded held-out split, stateless) of `weights` with the bundle's softmax."""
    from elmo_compress.lm import evaluate_perplexity, load_lm

    lm, vocabulary = load_lm(bundle, weights=weights)
    return evaluate_perplexity(lm, default_split()[1], vocabulary).mean


def distill_settings(settings: ShrinkSettings) -> DistillSettings:
    """The distillation stage's settings (`settings.distill_steps` steps, the seed, the other defaults of
    `DistillSettings`), made before any work so that bad settings stop at once."""
    return DistillSettings(steps=settings.distill_steps, seed=settings.seed, train=settings.distill_train)


def reconstruct_settings(settings: ShrinkSettings) -> ReconstructSettings:
    """
    The reconstruction stage's settings (`settings.reconstruct_steps` per cell, the seed, what to train),
    made before any work so that bad settings stop at once.
    """
    return ReconstructSettings(steps=settings.reconstruct_steps, train=settings.distill_train, seed=settings.seed)


def shrink_files(
    options_file: str,
    weight_file: str,
    output_dir: str,
    settings: ShrinkSettings,
    text_file: Optional[str] = None,
    statistics_file: Optional[str] = None,
    force: bool = False,
    say: Callable[[str], None] = print,
    task_archive: Optional[str] = None,
) -> Dict[str, Any]:
    """
    Shrink an official biLM to `settings.budget` of its LSTM W_i + W_h parameters and write
    `output_dir/{weights.hdf5, options.json, compression.json, statistics.npz, shrink_report.json}` as a
    set (nothing on failure). The text is `text_file`, or the training text of the allennlp archive
    `task_archive`, or the embedded corpus's training split. `statistics_file` (made from these weights)
    replaces the calibration. Returns the report.
    """
    inputs = (options_file, weight_file, text_file, statistics_file, task_archive)
    distillation = distill_settings(settings) if settings.distill_steps > 0 else None
    reconstruction = reconstruct_settings(settings) if settings.reconstruct_steps > 0 else None
    with OutputFolder(output_dir, inputs=inputs, names=SHRINK_OUTPUTS, force=force) as output:
        weights = ElmoWeights.load(options_file, weight_file)
        parameter_budget(
            {key: tuple(matrix.shape) for key, matrix in lstm_matrices(weights).items()}, settings.budget
        )
        text = read_text(text_file, task_archive)
        bundle = bundle_folder(weight_file)
        report: Dict[str, Any] = {
            "settings": asdict(settings),
            "source_weights": f"{os.path.basename(weight_file)} sha256:{file_sha256(weight_file)}",
        }
        stages: List[Dict[str, Any]] = []
        report["stages"] = stages

        def stage(name: str, started: Optional[float], bilm: ElmoWeights, **details: Any) -> None:
            record: Dict[str, Any] = {"stage": name, "lstm_parameters": _lstm_parameters(bilm), **details}
            if started is not None:
                record["seconds"] = round(time.perf_counter() - started, 1)
            if bundle is not None:
                record["held_out_perplexity"] = held_out_perplexity(bundle, bilm)
            stages.append(record)
            shown = {key: value for key, value in record.items() if key not in ("stage",)}
            say(f"{name}: " + ", ".join(f"{key} {_shown(value)}" for key, value in shown.items()))

        stage("uncompressed", None, weights)
        started = time.perf_counter()
        calibration = calibration_sentences(text, settings.calibration_sentences)
        statistics = _statistics(weights, calibration, statistics_file)
        statistics.save(output.path(STATISTICS_NAME))
        stages.append(
            {
                "stage": "calibrate",
                "seconds": round(time.perf_counter() - started, 1),
                "settings": statistics.settings,
                "key": statistics.key,
            }
        )
        vectors = max(statistics.counts.values())
        say(f"calibrate: {statistics.settings['sentences']} sentences, {vectors:,} input vectors per matrix")

        started = time.perf_counter()
        allocation = allocate(
            weights,
            statistics.second_moments,
            settings.budget,
            settings.method,
            settings.weighting,
            os.path.abspath(output.final_path(STATISTICS_NAME)),
            settings.seed,
            sentences=text,
        )
        stages.append({**_allocation_record(allocation), "seconds": round(time.perf_counter() - started, 1)})
        share = allocation.parameters / allocation.dense_parameters
        say(
            f"allocate ({settings.weighting}): {allocation.parameters:,} of {allocation.budget_parameters:,} budgeted"
        )
        say(f"  parameters ({share:.1%}); {allocation.spec.describe()}")

        started = time.perf_counter()
        compressed, reports = compress_weights(
            weights, allocation.spec, source=report["source_weights"], statistics=statistics.second_moments
        )
        stage("factorize", started, compressed)
        if reconstruction is not None:
            started = time.perf_counter()
            compressed = reconstruct_weights(weights, compressed, calibration, reconstruction)
            stage("reconstruct", started, compressed, steps_per_cell=settings.reconstruct_steps)
        if distillation is not None:
            started = time.perf_counter()
            compressed = distill_weights(weights, compressed, calibration_sentences(text, None), distillation)
            stage("distill", started, compressed, steps=settings.distill_steps)
        if reconstruction is not None or distillation is not None:
            reports = _reports(weights, compressed)  # the trained matrices against the originals
        compressed.save(output.path(WEIGHTS_NAME))
        weights.options.save(output.path(OPTIONS_NAME))
        write_text(output.path(COMPRESSION_NAME), json.dumps(allocation.spec.to_dict(), indent=2) + "\n")
        report["matrices"] = [matrix.to_dict() for matrix in reports]
        write_text(output.path(REPORT_NAME), json.dumps(report, indent=2) + "\n")
    say(compression_summary(reports, weights, compressed))
    return report


def _statistics(
    weights: ElmoWeights, calibration: List[List[str]], statistics_file: Optional[str]
) -> InputStatistics:
    if statistics_file is not None:
        shapes = {
            (layer, direction, target): tuple(weights.matrix(layer, direction, target).shape)
            for layer, direction in weights.cells()
            for target in MATRIX_TARGETS
        }
        return load_statistics_for(statistics_file, weights_lstm_sha256(weights), shapes)
    return load_or_compute_statistics(weights, calibration)


def _allocation_record(allocation: Allocation) -> Dict[str, Any]:
    return {
        "stage": "allocate",
        "budget_parameters": allocation.budget_parameters,
        "parameters": allocation.parameters,
        "dense_parameters": allocation.dense_parameters,
        "predicted_error": allocation.predicted_error,
        "ranks": [
            {"layer": layer, "direction": direction, "target": target, "rank": rank}
            for (layer, direction, target), rank in sorted(allocation.ranks.items())
        ],
    }


def _reports(original: ElmoWeights, compressed: ElmoWeights) -> List[MatrixReport]:
    return [
        matrix_report(key, original.matrix(*key).to_dense(), compressed.matrices[key])
        for key in sorted(compressed.matrices)
    ]


def _lstm_parameters(weights: ElmoWeights) -> int:
    return sum(
        weights.matrix(layer, direction, target).num_parameters()
        for layer, direction in weights.cells()
        for target in MATRIX_TARGETS
    )


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
