"""
Label-free distillation of a compressed biLM from the uncompressed one it was made from: matching
every ELMo layer on unlabeled text (`elmo_compress.distill.training` says which loss and why).
"""

from elmo_compress.distill.checks import check_teacher_and_student, weights_sha256
from elmo_compress.distill.files import CHECKPOINT_NAME, DistillReport, distill_files
from elmo_compress.distill.settings import SCHEDULES, TRAIN_CHOICES, DistillError, DistillSettings
from elmo_compress.distill.training import Distillation, distill_weights, layer_losses
