"""
What distillation checks before any work: a teacher that is the uncompressed biLM, a student made
from it, text with a usable sentence; and the fingerprints that tie a checkpoint to its run.
"""

import hashlib
import re
from typing import Any, Dict, List, Optional, Sequence

import numpy
import torch

from elmo_compress.distill.settings import DistillError
from elmo_compress.weights import ElmoWeights

SOURCE_SHA256 = re.compile(r"sha256:([0-9a-f]{64})")


def recorded_source_sha256(metadata: Dict[str, Any]) -> Optional[str]:
    """The sha256 of the weights file a compressed file was made from, as `compress` records it."""
    match = SOURCE_SHA256.search(str(metadata.get("source_weights", "")))
    return match.group(1) if match else None


def check_teacher_and_student(
    teacher: ElmoWeights, student: ElmoWeights, teacher_sha256: Optional[str] = None, student_name: str = "the student"
) -> None:
    """
    One `DistillError` line unless `teacher` is uncompressed and `student` is a compressed biLM made
    from it: same options, the sha256 of the source weights `compress` recorded (when both it and
    `teacher_sha256` are known) equal, and the character encoder's arrays equal to the teacher's.
    """
    if teacher.is_compressed:
        raise DistillError("the teacher must be the uncompressed biLM (an official weights file), not a compressed one")
    if not student.is_compressed:
        raise DistillError(f"{student_name} is not a compressed weights file (make one with `compress-elmo compress`)")
    if student.options != teacher.options:
        raise DistillError(f"{student_name} has other options than the teacher (it is not made from these weights)")
    recorded = recorded_source_sha256(student.metadata)
    if teacher_sha256 is not None and recorded is not None and recorded != teacher_sha256:
        raise DistillError(
            f"{student_name} was made from weights with sha256 {recorded[:16]}..., not from the teacher "
            f"(sha256 {teacher_sha256[:16]}...)"
        )
    # The character encoder is never compressed nor trained by distillation: a student made from the
    # teacher holds it unchanged.
    student_encoder = student.char_encoder.tensors()
    for name, tensor in teacher.char_encoder.tensors().items():
        if not _same(tensor, student_encoder[name]):
            raise DistillError(f"{student_name} is not made from these weights: its character encoder's {name} differs from the teacher's")


def _same(first: torch.Tensor, second: torch.Tensor) -> bool:
    return first.shape == second.shape and torch.equal(first, second)


def usable_sentences(sentences: Sequence[Sequence[str]]) -> List[List[str]]:
    """The sentences with at least one token; one error line when there is none."""
    usable = [list(tokens) for tokens in sentences if len(tokens) > 0]
    if not usable:
        raise DistillError(f"the text has no usable sentence ({len(sentences)} lines, none with a token)")
    return usable


def weights_sha256(weights: ElmoWeights) -> str:
    """sha256 of every array of a biLM in memory (names, shapes, dtypes and bytes, in a fixed order)."""
    digest = hashlib.sha256()
    arrays = {f"char_encoder/{name}": tensor.numpy() for name, tensor in weights.char_encoder.tensors().items()}
    for (layer, direction), cell in sorted(weights.lstm.items()):
        arrays.update({f"{layer}/{direction}/bias": cell.bias.numpy(), f"{layer}/{direction}/projection": cell.projection.numpy()})
    for key, matrix in sorted(weights.matrices.items()):
        digest.update(f"{key} {matrix.method} {matrix.rank}".encode())
        arrays.update({f"{key}/{name}": tensor.numpy() for name, tensor in matrix.stored_arrays().items()})
    for name in sorted(arrays):
        array = numpy.ascontiguousarray(arrays[name])
        digest.update(f"{name} {array.shape} {array.dtype}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()
