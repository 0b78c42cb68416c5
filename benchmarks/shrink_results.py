"""
The shrink results page (docs/shrink_results.md): on the demo biLM, at the budgets of uniform ranks
8 / 16 / 32 of 64 (13.3% / 26.6% / 53.1% of the LSTM W_i + W_h parameters),

  (a) SVD as in the paper (uniform rank, W_i and W_h),
  (b) + activation-aware (asvd at the same uniform rank; calibration statistics on the embedded training split),
  (c) + allocation (`shrink --budget B --reconstruct-steps 0`: closed form, no training),
  (d) + reconstruction (`shrink --budget B`: each compressed cell trained, teacher-forced, on the calibration text),
  (e) + distillation (`shrink --budget B --distill-steps N`: then the whole biLM distilled from the uncompressed one),

each with its LSTM W_i + W_h parameters, the mean perplexity on the full embedded held-out split (the demo
bundle's softmax) and its ratio to the uncompressed one, and the demo probe's NER F1: the probe
(`training_configs/ner/ner_elmo_probe.jsonnet`) trained once per training seed on the uncompressed biLM,
then evaluated with every row's biLM (`run_sweep`), mean ± sample standard deviation over the seeds.

    PYTHONPATH=. python benchmarks/shrink_results.py -o OUT_DIR [-f] [--threads 1] [--seeds 3]
        [--distill-steps 300] [--ranks 8 16 32]

Writes OUT_DIR/shrink_results.md (the page, the command at its top), .csv (`ResultRow`s: perplexity rows,
then the probe's rows) and .json; what they are made from stays in OUT_DIR/runs/.
"""

import argparse
import json
import os
import shlex
import sys
import time
from dataclasses import replace
from typing import Any, Dict, List, Sequence, Tuple

from elmo_compress.commands.arguments import non_negative_int, positive_int
from elmo_compress.constants import DEMO_BILM_DIR, OPTIONS_NAME, RECONSTRUCT_STEPS, WEIGHTS_NAME
from elmo_compress.data import default_split
from elmo_compress.demo.downstream import DEMO_TASKS, train_demo_task
from elmo_compress.demo.lm_experiment import demo_statistics, measure
from elmo_compress.downstream.seeds import aggregate_seeds
from elmo_compress.downstream.sweep import SweepRequest, run_sweep
from elmo_compress.factorize import CompressionSpec, break_even_rank
from elmo_compress.outputs import OutputFolder, write_text
from elmo_compress.reporting.results import ResultRow, metric_drop
from elmo_compress.reporting.shrink_results import results_csv, results_markdown
from elmo_compress.runtime import set_threads
from elmo_compress.shrink.pipeline import REPORT_NAME, ShrinkSettings, shrink_files
from elmo_compress.weights.compress import compress_files
from elmo_compress.weights.options import ElmoOptions

NAMES = ("shrink_results.md", "shrink_results.csv", "shrink_results.json")
OPTIONS_FILE, WEIGHT_FILE = os.path.join(DEMO_BILM_DIR, OPTIONS_NAME), os.path.join(DEMO_BILM_DIR, WEIGHTS_NAME)


def shrink_row(report: Dict[str, Any], baseline: ResultRow, budget: float) -> ResultRow:
    """The perplexity row of a `shrink` run: its last stage (factorize, reconstruct or distill)."""
    stage = report["stages"][-1]
    trained = [record["stage"] for record in report["stages"] if record["stage"] in ("reconstruct", "distill")]
    steps = stage.get("steps", stage.get("steps_per_cell", 0))
    return ResultRow(
        method=report["settings"]["method"],
        target="both",
        rank=None,
        metric_name=baseline.metric_name,
        metric=stage["held_out_perplexity"],
        metric_drop=metric_drop(baseline.metric, stage["held_out_perplexity"], higher_is_better=False),
        bilm_parameters=baseline.bilm_parameters - baseline.lstm_matrix_parameters + stage["lstm_parameters"],
        lstm_matrix_parameters=stage["lstm_parameters"],
        budget=budget,
        training="+".join(trained) or "none",
        training_steps=steps,
    )


def budget_rows(
    rank: int, runs: str, statistics: str, baseline: ResultRow, distill_steps: int, reports: Dict[str, Any]
) -> Tuple[float, List[ResultRow], Dict[str, str]]:
    """(budget, rows a-e, row name -> compressed weights file of rows b-e) at uniform rank `rank`."""
    held_out = default_split()[1]
    folder = os.path.join(runs, f"rank_{rank}")
    svd = CompressionSpec.from_dict({"method": "svd", "target": "both", "rank": rank})
    rows = [measure(DEMO_BILM_DIR, held_out, svd, baseline=baseline)]
    budget = rows[0].lstm_matrix_parameters / baseline.lstm_matrix_parameters
    asvd = CompressionSpec.from_dict({"method": "asvd", "target": "both", "rank": rank, "statistics": statistics})
    compress_files(OPTIONS_FILE, WEIGHT_FILE, asvd, os.path.join(folder, "asvd"), force=True)
    rows.append(measure(DEMO_BILM_DIR, held_out, asvd, baseline=baseline))
    files = {f"asvd-rank-{rank}": os.path.join(folder, "asvd", WEIGHTS_NAME)}
    runs_of_shrink = (
        (f"shrink-rank-{rank}", 0, 0),
        (f"shrink-reconstruct-rank-{rank}", RECONSTRUCT_STEPS, 0),
        (f"shrink-distill-rank-{rank}", RECONSTRUCT_STEPS, distill_steps),
    )
    for name, reconstruct_steps, steps in runs_of_shrink:
        settings = ShrinkSettings(budget=budget, reconstruct_steps=reconstruct_steps, distill_steps=steps)
        print(f"{name}: shrink --budget {budget} --reconstruct-steps {reconstruct_steps} --distill-steps {steps}")
        reports[name] = shrink_files(
            OPTIONS_FILE, WEIGHT_FILE, os.path.join(folder, name), settings, statistics_file=statistics, force=True
        )
        rows.append(shrink_row(reports[name], baseline, budget))
        files[name] = os.path.join(folder, name, WEIGHTS_NAME)
    return budget, rows, files


def downstream_rows(
    runs: str, ranks: Sequence[int], files: Dict[str, str], seeds: int, epochs: int, force: bool
) -> Tuple[List[ResultRow], Dict[str, List[float]]]:
    """The probe trained once per seed, swept with SVD rows natively and every compressed file; the rows
    combined over the seeds, and each row's per-seed metrics."""
    test_file = os.environ[DEMO_TASKS["probe"][1]]
    per_seed = []
    for seed in range(seeds):
        archive = train_demo_task("probe", os.path.join(runs, "probe", f"seed_{seed}", "model"), epochs, seed)
        request = SweepRequest(
            archive, test_file, ("svd",), ("both",), ranks, compressed_weights=tuple(files.items())
        )
        per_seed.append(run_sweep(request, os.path.join(runs, "probe", f"seed_{seed}", "sweep"), force))
    each = {str(row.setting): [row.metric] for row in per_seed[0]}
    for rows in per_seed[1:]:
        for row in rows:
            each[str(row.setting)].append(row.metric)
    return aggregate_seeds(per_seed), each


def relabel(rows: Sequence[ResultRow], named: Dict[str, ResultRow]) -> List[ResultRow]:
    """Downstream rows of compressed files (method = the file's name) labelled as their perplexity rows."""
    labelled = []
    for row in rows:
        twin = named.get(row.method)
        if twin is not None:
            row = replace(
                row, method=twin.method, target=twin.target, rank=twin.rank, budget=twin.budget,
                training=twin.training, training_steps=twin.training_steps,
            )
        labelled.append(row)
    return labelled


def main(argv: List[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output-dir", required=True, metavar="DIR")
    parser.add_argument("-f", "--force", action="store_true", help="replace outputs that exist")
    parser.add_argument("--threads", type=non_negative_int, default=1)
    parser.add_argument("--seeds", type=positive_int, default=3, help="probe training seeds (default 3)")
    parser.add_argument(
        "--epochs", type=positive_int, default=DEMO_TASKS["probe"][3], help="probe epochs (default: the demo's)"
    )
    parser.add_argument("--distill-steps", type=positive_int, default=300)
    parser.add_argument(
        "--ranks", type=positive_int, nargs="+", default=[8, 16, 32], help="uniform ranks, which set the budgets"
    )
    args = parser.parse_args(argv)
    options = ElmoOptions.from_file(OPTIONS_FILE)
    break_even = break_even_rank((4 * options.cell_dim, options.projection_dim))
    if max(args.ranks) >= break_even:
        parser.error(f"--ranks: {max(args.ranks)} is at or above the break-even rank {break_even:.1f} of the demo biLM's matrices")
    command = "PYTHONPATH=. python benchmarks/shrink_results.py " + " ".join(map(shlex.quote, argv))
    started = time.perf_counter()
    set_threads(args.threads)
    runs = os.path.join(args.output_dir, "runs")
    inputs = (OPTIONS_FILE, WEIGHT_FILE)
    with OutputFolder(args.output_dir, inputs=inputs, names=NAMES, force=args.force) as output:
        statistics = demo_statistics(DEMO_BILM_DIR, default_split()[0], os.path.join(runs, "calibration"))
        baseline = measure(DEMO_BILM_DIR, default_split()[1])
        print(f"uncompressed: perplexity {baseline.metric:.2f}")
        groups, files, reports, named = [], {}, {}, {}
        for rank in args.ranks:
            budget, rows, budget_files = budget_rows(rank, runs, statistics, baseline, args.distill_steps, reports)
            groups.append((budget, rows))
            files.update(budget_files)
            named.update(zip(budget_files, rows[1:]))
        downstream, each = downstream_rows(runs, args.ranks, files, args.seeds, args.epochs, args.force)
        downstream = relabel(downstream, named)
        perplexity = [baseline] + [row for _, rows in groups for row in rows]
        seconds = {
            named[name].setting: report["stages"][-1]["seconds"]
            for name, report in reports.items()
            if named[name].training != "none"
        }
        wall = time.perf_counter() - started
        table = results_markdown(groups, baseline, downstream, seconds)
        write_text(output.path(NAMES[0]), page(command, table, wall, args))
        write_text(output.path(NAMES[1]), results_csv(perplexity, downstream))
        record = {
            "command": command,
            "wall_seconds": round(wall, 1),
            "settings": vars(args),
            "statistics": statistics,
            "downstream_per_seed": each,
            "shrink_reports": {
                name: {key: report[key] for key in ("settings", "stages")} for name, report in reports.items()
            },
        }
        write_text(output.path(NAMES[2]), json.dumps(record, indent=1) + "\n")
    print(table)
    print(f"wrote {', '.join(os.path.join(args.output_dir, name) for name in NAMES)} in {wall:.0f} s")


def page(command: str, table: str, wall: float, args: argparse.Namespace) -> str:
    return f"""# Shrink results on the demo biLM

    {command}

(took {wall:.0f} s of wall time, `--threads {args.threads}`.) Budgets: the LSTM W_i + W_h parameters of
uniform ranks {' / '.join(map(str, args.ranks))} of 64 on all eight matrices. Held-out perplexity: mean
of both directions on the full embedded held-out split, the demo bundle's softmax, states reset per batch.
(c), (d) and (e) are `compress-elmo shrink` at that budget (asvd, measured weighting, 2,000 calibration
sentences of the embedded training split, the statistics (b) uses too): (c) with `--reconstruct-steps 0`
(closed form, no training), (d) as it runs by default (each compressed cell then trained, teacher-forced,
to take the uncompressed cell's steps on the calibration sentences: no softmax, no labels), (e) with
`--distill-steps {args.distill_steps}` (the whole biLM then distilled from the uncompressed one); the
seconds are those of the row's last stage (`shrink_report.json`). Downstream: the demo probe
(`ner_elmo_probe.jsonnet`, {args.epochs} epochs) trained once per training seed on the uncompressed biLM,
evaluated on the demo NER test file with each row's biLM in its place (`compress-elmo sweep`'s evaluation).

{table}"""


if __name__ == "__main__":
    main(sys.argv[1:])
