"""
The demo's language-model experiment: compress the demo biLM with every method, target and rank, and
measure parameters, reconstruction error and held-out perplexity, plus the perplexity after a short
fine-tune of one setting. Rows are `ResultRow`s (metric `perplexity_mean`).
"""

from typing import List, Optional, Sequence

import torch
from allennlp.modules.elmo import _ElmoBiLm, batch_to_ids

from elmo_compress.constants import DEFAULT_CALIBRATION_SENTENCES, OPTIONS_NAME, TARGET_CHOICES, UNCOMPRESSED, WEIGHTS_NAME
from elmo_compress.data import Sentences
from elmo_compress.factorize import CompressionSpec
from elmo_compress.lm import evaluate_perplexity, finetune, load_lm
from elmo_compress.lm.bundle import bundle_path
from elmo_compress.methods import METHODS
from elmo_compress.modules import bilm_parameter_counts
from elmo_compress.outputs import OutputFolder, write_text
from elmo_compress.reporting.results import ResultRow, markdown_table, metric_drop, plot_metric_vs_rank, rows_csv

CSV_NAME, MARKDOWN_NAME, PLOT_NAME = "lm_compression.csv", "lm_compression.md", "perplexity_vs_rank.png"
OUTPUT_NAMES = (CSV_NAME, MARKDOWN_NAME, PLOT_NAME)


def measure(
    bundle: str,
    held_out: Sentences,
    spec: Optional[CompressionSpec] = None,
    finetune_steps: int = 0,
    train: Sentences = (),
    baseline: Optional[ResultRow] = None,
) -> ResultRow:
    """Compress the bundle's biLM as `spec` says (None: not at all), optionally fine-tune, measure."""
    lm, vocabulary = load_lm(bundle, compression=spec, requires_grad=finetune_steps > 0)
    if finetune_steps:
        finetune(lm, train, vocabulary, finetune_steps)
    errors = [report.relative_error for report in lm.bilm.compression_report if report.method != "dense"]
    perplexity = evaluate_perplexity(lm, held_out, vocabulary)
    bilm_parameters, matrix_parameters = bilm_parameter_counts(lm.bilm)
    return ResultRow(
        method=spec.method if spec else UNCOMPRESSED,
        target=spec.target if spec else UNCOMPRESSED,
        rank=spec.rank.value if spec else None,
        metric_name="perplexity_mean",
        metric=perplexity.mean,
        metric_drop=0.0 if baseline is None else metric_drop(baseline.metric, perplexity.mean, higher_is_better=False),
        bilm_parameters=bilm_parameters,
        lstm_matrix_parameters=matrix_parameters,
        training="finetune" if finetune_steps else "none",
        training_steps=finetune_steps,
        mean_relative_error=sum(errors) / len(errors) if errors else 0.0,
        metric_forward=perplexity.forward,
        metric_backward=perplexity.backward,
    )


def check_against_allennlp(bundle: str, sentences: Sequence[List[str]]) -> float:
    """Max |difference| of our uncompressed biLM and allennlp's own on the same batch."""
    lm, _ = load_lm(bundle)
    allennlp_bilm = _ElmoBiLm(bundle_path(bundle, OPTIONS_NAME), bundle_path(bundle, WEIGHTS_NAME))
    character_ids = batch_to_ids(list(sentences))
    with torch.no_grad():
        ours, theirs = lm.bilm(character_ids)["activations"], allennlp_bilm(character_ids)["activations"]
    return max(float((a - b).abs().max()) for a, b in zip(ours, theirs))


def demo_statistics(bundle: str, train: Sentences, cache_dir: str) -> str:
    """The calibration statistics file of the bundle's biLM on its training text, kept in `cache_dir`."""
    from elmo_compress.calibration.collect import calibration_sentences, cached_statistics_file
    from elmo_compress.weights import ElmoWeights

    weights = ElmoWeights.load(bundle_path(bundle, OPTIONS_NAME), bundle_path(bundle, WEIGHTS_NAME))
    return cached_statistics_file(weights, calibration_sentences(train, DEFAULT_CALIBRATION_SENTENCES), cache_dir)


def lm_rows(
    bundle: str,
    held_out: Sentences,
    methods: Sequence[str],
    ranks: Sequence[int],
    finetune_steps: int,
    finetune_rank: int,
    train: Sentences,
    statistics: Optional[str] = None,
    report: "callable" = print,
) -> List[ResultRow]:
    """
    The uncompressed row, every method x target x rank, and one fine-tuned SVD row (both targets).
    Methods that need calibration statistics (`asvd`) read them from the file `statistics`
    (`demo_statistics`).
    """
    rows = [measure(bundle, held_out)]
    for method in methods:
        for target in TARGET_CHOICES:
            for rank in ranks:
                block = {"method": method, "target": target, "rank": rank}
                if METHODS[method].needs_statistics:
                    block["statistics"] = statistics
                spec = CompressionSpec.from_dict(block)
                rows.append(measure(bundle, held_out, spec, baseline=rows[0]))
                report(f"{method} {target} rank {rank}: perplexity {rows[-1].metric:.1f}")
    if finetune_steps:
        spec = CompressionSpec.from_dict({"method": "svd", "target": "both", "rank": finetune_rank})
        rows.append(measure(bundle, held_out, spec, finetune_steps, train, baseline=rows[0]))
    return rows


def write_lm_outputs(rows: List[ResultRow], methods: Sequence[str], output: OutputFolder) -> None:
    """The table as CSV and Markdown, and perplexity against rank."""
    write_text(output.path(CSV_NAME), rows_csv(rows))
    write_text(output.path(MARKDOWN_NAME), markdown_table(rows))
    title = "Demo biLM: held-out perplexity after compression, by rank"
    plot_metric_vs_rank(rows, methods, output.path(PLOT_NAME), title, log_scale=True)
