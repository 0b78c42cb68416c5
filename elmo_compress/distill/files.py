"""`distill_files`: `compress-elmo distill` as a library call, from files to files."""

import os
import time
from dataclasses import dataclass
from typing import List, Optional

from elmo_compress.constants import OPTIONS_NAME, WEIGHTS_NAME
from elmo_compress.downstream.task_text import read_text
from elmo_compress.distill.checks import check_teacher_and_student, usable_sentences
from elmo_compress.distill.settings import DistillSettings
from elmo_compress.distill.training import distill_weights
from elmo_compress.outputs import OutputFolder
from elmo_compress.weights import ElmoOptions, ElmoWeights, file_sha256

# Written into the output folder and kept there: rerunning the same command continues from it.
CHECKPOINT_NAME = "distill_checkpoint.pt"


@dataclass(frozen=True)
class DistillReport:
    """What `distill_files` did: the weights written, where, and how long it took."""

    weights: ElmoWeights
    output_dir: str
    seconds: float

    def lines(self) -> List[str]:
        record = self.weights.metadata["distill"]
        return [
            f"distilled {record['steps']} steps on {record['sentences']:,} sentences in {self.seconds:.1f} s "
            f"(train {record['train']}, batch {record['batch_size']}, learning rate {record['learning_rate']:g} "
            f"({record['schedule']}, warmup {record['warmup']:g} of the steps), seed {record['seed']})",
            f"loss (relative squared error of the LSTM layers): first step {record['first_step_loss']:.4f}, "
            f"mean of the last {record['final_loss_steps']} steps {record['final_loss']:.4f}",
            f"wrote {os.path.join(self.output_dir, WEIGHTS_NAME)} and {os.path.join(self.output_dir, OPTIONS_NAME)}",
        ]


def distill_files(
    options_file: str,
    weight_file: str,
    compressed_file: str,
    output_dir: str,
    settings: DistillSettings,
    text_file: Optional[str] = None,
    force: bool = False,
    show_progress: bool = True,
    task_archive: Optional[str] = None,
) -> DistillReport:
    """
    Distill the official biLM (`options_file`, `weight_file`) into the compressed weights file
    `compressed_file` made from it, on `text_file` (one sentence per line, whitespace tokens) or the
    training text of the allennlp archive `task_archive` (default: the embedded corpus's training
    split), and write `output_dir/weights.hdf5` (compressed format) and `options.json` as a set. `output_dir/distill_checkpoint.pt` is written every
    `settings.checkpoint_every` steps; a run of the same command continues from it exactly.
    """
    inputs = (options_file, weight_file, compressed_file, text_file, task_archive)
    with OutputFolder(output_dir, inputs=inputs, names=(WEIGHTS_NAME, OPTIONS_NAME), force=force) as output:
        sentences = read_text(text_file, task_archive)
        options = ElmoOptions.from_file(options_file)
        teacher = ElmoWeights.from_file(options, weight_file)
        student = ElmoWeights.from_file(options, compressed_file)
        teacher_sha256 = file_sha256(weight_file)
        sentences = usable_sentences(sentences)
        check_teacher_and_student(teacher, student, teacher_sha256, compressed_file)
        os.makedirs(output_dir, exist_ok=True)  # for the checkpoint, once every input is known good
        started = time.perf_counter()
        weights = distill_weights(
            teacher,
            student,
            sentences,
            settings,
            checkpoint=os.path.join(output_dir, CHECKPOINT_NAME),
            show_progress=show_progress,
            teacher_sha256=teacher_sha256,
            student_name=compressed_file,
        )
        seconds = time.perf_counter() - started
        weights.save(output.path(WEIGHTS_NAME))
        options.save(output.path(OPTIONS_NAME))
    return DistillReport(weights, output_dir, seconds)
