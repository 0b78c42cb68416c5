"""
`run_demo`: what `make demo` runs, on the shipped demo biLM (or another bundle): the language-model
experiment, the matrix analysis, and the downstream experiment on one demo task.
"""

import os
from dataclasses import dataclass
from typing import Optional, Sequence

from elmo_compress.analysis.run import write_analysis
from elmo_compress.constants import OPTIONS_NAME, WEIGHTS_NAME
from elmo_compress.data import default_split
from elmo_compress.demo.downstream import run_downstream_demo
from elmo_compress.demo.lm_experiment import (
    CSV_NAME,
    OUTPUT_NAMES,
    check_against_allennlp,
    demo_statistics,
    lm_rows,
    write_lm_outputs,
)
from elmo_compress.lm.bundle import bundle_path
from elmo_compress.methods import METHODS
from elmo_compress.outputs import OutputFolder
from elmo_compress.reporting.results import text_table


@dataclass(frozen=True)
class DemoSettings:
    """What the demo runs; the defaults are `make demo`'s (see `compress-elmo demo --help`)."""

    bundle: str
    output_dir: str
    methods: Sequence[str]
    ranks: Sequence[int]
    finetune_steps: int
    finetune_rank: int
    held_out_sentences: int
    downstream_task: str
    downstream_ranks: Sequence[int]
    downstream_epochs: Optional[int]
    downstream_seeds: int = 3
    force: bool = False


def run_demo(settings: DemoSettings) -> None:
    train, held_out = default_split()
    if settings.held_out_sentences:
        held_out = held_out[: settings.held_out_sentences]
    tokens = sum(len(sentence) for sentence in held_out)
    print(f"demo biLM: {settings.bundle}; held-out: {len(held_out)} sentences, {tokens} tokens, embedded corpus")
    options_file, weight_file = bundle_path(settings.bundle, OPTIONS_NAME), bundle_path(settings.bundle, WEIGHTS_NAME)
    statistics = None
    with OutputFolder(settings.output_dir, [options_file, weight_file], OUTPUT_NAMES, settings.force) as output:
        if any(METHODS[method].needs_statistics for method in settings.methods):
            # Kept in the output folder (OUTPUT_DIR/calibration), so a rerun reuses them.
            statistics = demo_statistics(settings.bundle, train, os.path.join(settings.output_dir, "calibration"))
        difference = check_against_allennlp(settings.bundle, held_out[:32])
        print(f"uncompressed path vs allennlp _ElmoBiLm, max abs difference: {difference:.2e}")
        rows = lm_rows(
            settings.bundle, held_out, settings.methods, settings.ranks, settings.finetune_steps, settings.finetune_rank, train,
            statistics,
        )
        print(text_table(rows))
        write_lm_outputs(rows, settings.methods, output)
    print(f"wrote {', '.join(os.path.join(settings.output_dir, name) for name in OUTPUT_NAMES)}")
    analysis_dir = os.path.join(settings.output_dir, "analysis")
    sweep_csv = os.path.join(settings.output_dir, CSV_NAME)
    write_analysis(options_file, weight_file, analysis_dir, sweep_csv=sweep_csv, force=settings.force)
    print(f"wrote the matrix analysis of the demo biLM to {analysis_dir} (see docs/analysis.md)")
    if settings.downstream_task != "none":
        rows = run_downstream_demo(
            settings.downstream_task, settings.output_dir, settings.methods, settings.downstream_ranks,
            settings.downstream_epochs, settings.force, settings.downstream_seeds, statistics,
        )
        print(text_table(rows))
