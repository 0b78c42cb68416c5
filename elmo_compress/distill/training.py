"""
Label-free distillation: the uncompressed biLM (the teacher, frozen) teaches a compressed biLM made
from it (the student) to give the same ELMo layers on unlabeled text. Only the options and weights
are needed: no softmax, no vocabulary, no labels.

The loss. ELMo's output is its layers (the token layer and one per LSTM layer, each forward and
backward halves concatenated), mixed by whatever model sits on top; so the student is asked to match
every layer, at every real position of every sentence (the `<S>` and `</S>` positions included: they
are in the biLM's output and a language model predicts from them; padding excluded). For layer `l`,
with teacher output `T_l` and student output `S_l` over the real positions `P` (D values each),

    loss_l = sum_P ||S_l - T_l||^2 / sum_P ||T_l||^2

the squared error relative to the teacher layer's mean squared activation (computed on the same
batch, not differentiated). Dividing by the layer's own scale makes the layers weigh equally, whatever
their magnitude (the top layer, which adds the skip connection, is larger than the first), and makes
the loss a scale-free relative error: 0 is a perfect match, 1 is as far as predicting zeros. Plain
MSE on the layers' outputs (rather than KL on a softmax, which official ELMo files do not have)
trains exactly what downstream models consume.

The token layer is matched exactly by construction: the student's character encoder (never
compressed) is checked equal to the teacher's and is not trained, so both LSTMs run on the one token
representation the teacher's encoder gives. Its term is identically 0, so the loss is the mean of
`loss_l` over the LSTM layers. (The character CNN costs more than the LSTMs at ELMo's sizes, so the
teacher's encoder runs once per distinct token of the run, into its character cache.)

Batches are stateless (zero initial LSTM states for every batch), as `perplexity`, `finetune` and
independent-sentence embedding run the biLM, and sentences are batched by similar length
(`elmo_compress.lm.training.training_batches`, seeded). The optimizer is Adam.
"""

import itertools
import os
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from allennlp.modules.elmo import batch_to_ids

from elmo_compress.constants import DEFAULT_CHAR_CACHE
from elmo_compress.data.corpus import text_sha256
from elmo_compress.distill.checks import check_teacher_and_student, usable_sentences, weights_sha256
from elmo_compress.distill.settings import DistillError, DistillSettings
from elmo_compress.embed.embedding import preload_frequent_tokens
from elmo_compress.lm.training import training_batches
from elmo_compress.modules import CompressedElmoBiLm, compressed_parameters, weights_from_bilm
from elmo_compress.modules.runtime_options import RuntimeOptions
from elmo_compress.train_loop import RUNNING_WINDOW, read_checkpoint, restore, run_steps, running_mean, save_checkpoint
from elmo_compress.weights import ElmoWeights

# Zero initial states for every batch; the fast biLSTM (which trains like allennlp's loop).
STATELESS = RuntimeOptions(stateful=False)
# The teacher's too, with a character cache preloaded with the run's tokens (see `Distillation.train`).
TEACHER_RUNTIME = RuntimeOptions(stateful=False, char_cache=DEFAULT_CHAR_CACHE)


def lstm_layers(bilm: CompressedElmoBiLm, token_embedding: torch.Tensor, mask: torch.Tensor) -> List[torch.Tensor]:
    """
    The LSTM layers of the biLM's output (`_ElmoBiLm.forward`'s activations after the token layer).

    # Parameters

    token_embedding : `torch.Tensor`
        Shape (batch, timesteps + 2, projection_dim): the character encoder's output, boundaries added.
    mask : `torch.Tensor`
        Shape (batch, timesteps + 2).

    # Returns

    One tensor per LSTM layer, shape (batch, timesteps + 2, 2 * projection_dim).
    """
    # shape (num_layers, batch, timesteps + 2, 2 * projection_dim)
    outputs = bilm._elmo_lstm(token_embedding, mask)
    return list(outputs.unbind(0))


def layer_losses(student: Sequence[torch.Tensor], teacher: Sequence[torch.Tensor], mask: torch.Tensor) -> torch.Tensor:
    """
    Per layer, `sum ||S - T||^2 / sum ||T||^2` over the real positions (see the module docstring).

    # Parameters

    student, teacher : `Sequence[torch.Tensor]`
        Each layer of shape (batch, timesteps + 2, dim).
    mask : `torch.Tensor`
        Shape (batch, timesteps + 2), true at real positions.

    # Returns

    Shape (layers,).
    """
    # shape (batch, timesteps + 2, 1)
    weight = mask.unsqueeze(-1).to(teacher[0].dtype)
    losses = []
    for student_layer, teacher_layer in zip(student, teacher):
        error = ((student_layer - teacher_layer) ** 2 * weight).sum()
        scale = (teacher_layer.detach() ** 2 * weight).sum()
        losses.append(error / scale)
    return torch.stack(losses)


def select_trainable(module: torch.nn.Module, train: str) -> List[torch.nn.Parameter]:
    """
    Freeze every parameter of `module`, then unfreeze and return those `train` names: `"factors"`, the
    parameters that store compressed matrices; `"all"`, every one.
    """
    for parameter in module.parameters():
        parameter.requires_grad = False
    chosen = compressed_parameters(module) if train == "factors" else list(module.parameters())
    for parameter in chosen:
        parameter.requires_grad = True
    return chosen


class Distillation:
    """
    One distillation run: the teacher and student modules, the trainable parameters, the optimizer.

    # Parameters

    teacher : `ElmoWeights`
        The uncompressed biLM.
    student : `ElmoWeights`
        A compressed biLM made from `teacher` (checked).
    settings : `DistillSettings`
    teacher_sha256 : `str`, optional (default = `None`)
        sha256 of the teacher's weights file, compared with the one `compress` recorded in the student.
    student_name : `str`, optional (default = `"the student"`)
        How error messages name the student (e.g. its file).
    """

    def __init__(
        self,
        teacher: ElmoWeights,
        student: ElmoWeights,
        settings: DistillSettings,
        teacher_sha256: Optional[str] = None,
        student_name: str = "the student",
    ) -> None:
        check_teacher_and_student(teacher, student, teacher_sha256, student_name)
        self.student_weights = student
        self.settings = settings
        self.fingerprints = {"teacher_sha256": weights_sha256(teacher), "student_sha256": weights_sha256(student)}
        self.teacher = CompressedElmoBiLm(weights=teacher, runtime=TEACHER_RUNTIME).eval()
        self.student = CompressedElmoBiLm(weights=student, requires_grad=True, runtime=STATELESS).eval()
        self.parameters = self._trainable(settings.train)
        self.optimizer = torch.optim.Adam(self.parameters, lr=settings.learning_rate_at(0))

    def _trainable(self, train: str) -> List[torch.nn.Parameter]:
        for parameter in self.student.parameters():
            parameter.requires_grad = False  # the character encoder is never trained
        trainable = select_trainable(self.student._elmo_lstm, train)
        if not trainable:
            raise DistillError("the student has no compressed matrix to train (use --train all)")
        return trainable

    def teacher_layers(self, character_ids: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, List[torch.Tensor]]:
        """(token embedding, mask, the teacher's LSTM layers) of a batch, without gradients."""
        with torch.no_grad():
            encoded = self.teacher._token_embedder(character_ids)
            token_embedding, mask = encoded["token_embedding"], encoded["mask"]
            return token_embedding, mask, lstm_layers(self.teacher, token_embedding, mask)

    def batch_losses(self, sentences: Sequence[List[str]]) -> torch.Tensor:
        """Per LSTM layer, the student's relative squared error on these sentences (shape (layers,))."""
        token_embedding, mask, teacher = self.teacher_layers(batch_to_ids([list(tokens) for tokens in sentences]))
        return layer_losses(lstm_layers(self.student, token_embedding, mask), teacher, mask)

    def batch_loss(self, sentences: Sequence[List[str]]) -> torch.Tensor:
        """The training loss: the mean over the LSTM layers of `batch_losses`."""
        return self.batch_losses(sentences).mean()

    def set_learning_rate(self, step: int) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = self.settings.learning_rate_at(step)

    def train(self, sentences: Sequence[List[str]], checkpoint: Optional[str] = None, show_progress: bool = True) -> List[float]:
        """
        Run the settings' steps on `sentences`, resuming from `checkpoint` when it exists (it must be
        of this run: same teacher, student, text and settings but `checkpoint_every`) and writing it
        every `checkpoint_every` steps and at the end. Returns every step's loss, resumed ones included.
        """
        settings = self.settings
        identity = {**settings.to_dict(), **self.fingerprints, "text_sha256": text_sha256(sentences)}
        torch.manual_seed(settings.seed)
        start, losses = 0, []
        if checkpoint is not None and os.path.isfile(checkpoint):
            # The number of steps is part of the run: it sets the learning-rate schedule and the tokens preloaded.
            state = read_checkpoint(checkpoint, identity, may_differ=("checkpoint_every",))
            start, losses = restore(state, self.student, self.optimizer), list(state["extra"]["losses"])
        self.set_learning_rate(start)
        # Every token the run's batches hold (from its first step, so a resumed run preloads the same ones)
        # is encoded once, up front, into the teacher's character cache, which then stays fixed: a token's
        # vector never depends on the batch it comes in, and the character CNN leaves the training loop.
        planned = itertools.islice(training_batches(sentences, settings.batch_size, settings.seed), settings.steps)
        with torch.no_grad():
            preload_frequent_tokens(self.teacher, [tokens for batch in planned for tokens in batch])

        def on_step(done: int) -> None:
            self.set_learning_rate(done)
            if checkpoint is not None and (done % settings.checkpoint_every == 0 or done == settings.steps):
                save_checkpoint(checkpoint, identity, done, self.student, self.optimizer, {"losses": losses})

        batches = training_batches(sentences, settings.batch_size, settings.seed, start_step=start)
        return run_steps(
            self.parameters,
            self.optimizer,
            batches,
            self.batch_loss,
            range(start, settings.steps),
            settings.gradient_clip,
            on_step,
            description="distilling",
            losses=losses,
            show_progress=show_progress,
        )

    def trained_weights(self, metadata: Dict[str, Any]) -> ElmoWeights:
        """The student as compressed weights, with `metadata` (see `student_weights`)."""
        return student_weights(self.student, self.student_weights, self.settings.train, metadata)


def student_weights(
    bilm: CompressedElmoBiLm, student: ElmoWeights, train: str, metadata: Dict[str, Any]
) -> ElmoWeights:
    """
    The weights of `bilm` (the student `student` after training `train`: `"factors"` or `"all"`), with
    `metadata`. Training only the factors, every other tensor is `student`'s own, unchanged (read back
    from modules, forget-gate biases could move by one unit in the last place; see `weights_from_bilm`).
    """
    trained = weights_from_bilm(bilm, student.options, metadata)
    if train == "factors":
        return student.compressed(trained.matrices, metadata)
    return trained


def distill_weights(
    teacher: ElmoWeights,
    student: ElmoWeights,
    sentences: Sequence[List[str]],
    settings: DistillSettings,
    checkpoint: Optional[str] = None,
    show_progress: bool = True,
    teacher_sha256: Optional[str] = None,
    student_name: str = "the student",
) -> ElmoWeights:
    """
    Distill `teacher` into `student` on `sentences` (see the module docstring) and return the trained
    compressed weights, same layout as `student`, its metadata plus a `distill` record (settings,
    losses, text sha256, sentences).

    # Parameters

    teacher : `ElmoWeights`
        The uncompressed biLM.
    student : `ElmoWeights`
        A compressed biLM made from `teacher`: refused in one line otherwise.
    sentences : `Sequence[List[str]]`
        Tokenized text; sentences without tokens are skipped, and text with none is refused.
    settings : `DistillSettings`
    checkpoint : `str`, optional (default = `None`)
        A checkpoint file: resumed from exactly when it exists, written every `checkpoint_every` steps.
    show_progress : `bool`, optional (default = `True`)
        A progress bar (stderr) with the running loss.
    teacher_sha256 : `str`, optional (default = `None`)
        sha256 of the teacher's file, checked against the source `compress` recorded in the student.
    student_name : `str`, optional (default = `"the student"`)
        How error messages name the student.
    """
    sentences = usable_sentences(sentences)
    distillation = Distillation(teacher, student, settings, teacher_sha256, student_name)
    losses = distillation.train(sentences, checkpoint, show_progress)
    record = {
        **settings.to_dict(),
        "text_sha256": text_sha256(sentences),
        "sentences": len(sentences),
        "first_step_loss": losses[0],
        "last_step_loss": losses[-1],
        "final_loss": running_mean(losses),
        "final_loss_steps": min(RUNNING_WINDOW, len(losses)),
    }
    record.pop("checkpoint_every")
    return distillation.trained_weights({**student.metadata, "distill": record})
