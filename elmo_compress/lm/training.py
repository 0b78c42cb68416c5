"""
Training and evaluating the biLM as a language model: `pretrain` (from random weights, writes a
bundle), `evaluate_perplexity`, and `finetune` (a compressed biLM, on the same loss).
"""

import json
import math
import os
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import torch
from allennlp.modules.elmo import batch_to_ids

from elmo_compress.data import Sentences
from elmo_compress.errors import ElmoCompressError
from elmo_compress.factorize.checks import is_int, is_real
from elmo_compress.lm import bundle
from elmo_compress.lm.language_model import BidirectionalLm
from elmo_compress.lm.vocabulary import SPECIAL_TOKENS, LmVocabulary
from elmo_compress.modules import CompressedElmoBiLm, compressed_parameters, weights_from_bilm
from elmo_compress.modules.runtime_options import ALLENNLP_LOOP
from elmo_compress.outputs import OutputFolder, write_text
from elmo_compress.train_loop import read_checkpoint, restore, run_steps, save_checkpoint
from elmo_compress.weights import ElmoOptions, ElmoWeights
from elmo_compress.weights.synthetic import elmo_options, random_elmo_weights

CHECKPOINT_NAME = "checkpoint.pt"


@dataclass
class PretrainConfig:
    """Sizes and schedule of `pretrain`; the defaults make the demo biLM."""

    projection_dim: int = 64
    cell_dim: int = 256
    num_layers: int = 2
    filters: List[List[int]] = field(default_factory=lambda: [[1, 32], [2, 32], [3, 64], [4, 128], [5, 256]])
    char_embedding_dim: int = 16
    num_highway: int = 1
    vocabulary_size: int = 20000
    steps: int = 3000
    batch_size: int = 32
    learning_rate: float = 2e-3
    gradient_clip: float = 5.0
    dropout: float = 0.1
    seed: int = 0
    checkpoint_every: int = 250

    def __post_init__(self) -> None:
        minimum = {"projection_dim": 1, "cell_dim": 1, "num_layers": 1, "char_embedding_dim": 1, "num_highway": 0}
        minimum.update({"vocabulary_size": len(SPECIAL_TOKENS) + 1, "steps": 0, "batch_size": 1, "seed": 0})
        minimum["checkpoint_every"] = 1
        for name, least in minimum.items():
            value = getattr(self, name)
            if not is_int(value) or value < least:
                raise ElmoCompressError(f"pretrain: {name} must be an integer >= {least}, got {value!r}")
        for name in ("learning_rate", "gradient_clip"):
            if not is_real(getattr(self, name)) or getattr(self, name) <= 0:
                raise ElmoCompressError(f"pretrain: {name} must be a finite number > 0, got {getattr(self, name)!r}")
        if not is_real(self.dropout) or not 0 <= self.dropout < 1:
            raise ElmoCompressError(f"pretrain: dropout must be in [0, 1), got {self.dropout!r}")

    def options(self) -> ElmoOptions:
        return elmo_options(
            self.projection_dim,
            self.cell_dim,
            self.num_layers,
            filters=self.filters,
            char_embedding_dim=self.char_embedding_dim,
            num_highway=self.num_highway,
        )


@dataclass(frozen=True)
class Perplexity:
    forward: float
    backward: float
    mean: float  # exp of the mean NLL over both directions, as bilm-tf reports it
    tokens: int


def perplexity(mean_nll: float) -> float:
    """exp of a mean negative log-likelihood (infinity past what a float holds)."""
    return math.exp(mean_nll) if mean_nll < 709 else float("inf")


def batch_tensors(sentences: Sentences, vocabulary: LmVocabulary) -> Tuple[torch.Tensor, torch.Tensor]:
    """(character ids (batch, timesteps, 50), word ids of `<S> tokens </S>` (batch, timesteps + 2))."""
    character_ids = batch_to_ids([list(tokens) for tokens in sentences])
    word_ids = torch.zeros(len(sentences), character_ids.size(1) + 2, dtype=torch.long)
    for row, tokens in enumerate(sentences):
        ids = vocabulary.ids(tokens)
        word_ids[row, : len(ids)] = ids
    return character_ids, word_ids


def epoch_batches(num_sentences: int, lengths: Sequence[int], batch_size: int, seed: int) -> List[List[int]]:
    """
    Sentence indices per batch for one epoch: a seeded shuffle, sentences of similar length
    batched together within windows of 20 batches (less padding), batch order shuffled again.
    """
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(num_sentences, generator=generator).tolist()
    window = 20 * batch_size
    batches: List[List[int]] = []
    for start in range(0, num_sentences, window):
        chunk = sorted(order[start : start + window], key=lambda index: lengths[index])
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    return [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]


def training_batches(
    sentences: Sentences, batch_size: int, seed: int, start_step: int = 0
) -> Iterator[List[List[str]]]:
    """Endless batches, epoch after epoch; epoch `e` is shuffled with seed `seed * 1000 + e`."""
    if not sentences:
        raise ElmoCompressError("no training sentences")
    lengths = [len(tokens) for tokens in sentences]
    per_epoch = len(epoch_batches(len(sentences), lengths, batch_size, seed))
    epoch, skip = divmod(start_step, per_epoch)
    while True:
        for batch in epoch_batches(len(sentences), lengths, batch_size, seed * 1000 + epoch)[skip:]:
            yield [sentences[index] for index in batch]
        epoch, skip = epoch + 1, 0


def evaluate_perplexity(
    lm: BidirectionalLm, sentences: Sentences, vocabulary: LmVocabulary, batch_size: int = 64
) -> Perplexity:
    """Forward, backward and mean perplexity over `sentences` (each predicted token counted once)."""
    lm.eval()
    forward = backward = 0.0
    count = 0
    order = sorted(range(len(sentences)), key=lambda index: len(sentences[index]))
    with torch.no_grad():
        for start in range(0, len(order), batch_size):
            batch = [sentences[index] for index in order[start : start + batch_size]]
            loss = lm(*batch_tensors(batch, vocabulary))
            forward, backward, count = (
                forward + float(loss.forward),
                backward + float(loss.backward),
                count + loss.count,
            )
    if count == 0:
        raise ElmoCompressError("no sentences to compute perplexity on")
    return Perplexity(
        forward=perplexity(forward / count),
        backward=perplexity(backward / count),
        mean=perplexity((forward + backward) / (2 * count)),
        tokens=count,
    )


def _train_steps(
    lm: BidirectionalLm,
    optimizer: torch.optim.Optimizer,
    batches: Iterator[List[List[str]]],
    vocabulary: LmVocabulary,
    steps: range,
    gradient_clip: float,
    on_step: Optional[Callable[[int], None]] = None,
) -> List[float]:
    """Run `steps` on the language-model loss (`run_steps`), the bar showing the running perplexity."""

    def batch_loss(batch: List[List[str]]) -> torch.Tensor:
        lm.train()
        return lm(*batch_tensors(batch, vocabulary)).mean()

    parameters = [parameter for parameter in lm.parameters() if parameter.requires_grad]
    return run_steps(
        parameters,
        optimizer,
        batches,
        batch_loss,
        steps,
        gradient_clip,
        on_step,
        postfix=lambda loss: {"ppl": f"{perplexity(loss):.1f}"},
    )


# Settings that a resumed `pretrain` may change.
RESUMABLE_CHANGES = ("steps", "checkpoint_every")


def _initial_lm(config: PretrainConfig, vocabulary: LmVocabulary) -> BidirectionalLm:
    """A random biLM: allennlp's own modules (`_ElmoBiLm`'s, running allennlp's loop) from random weights."""
    weights = random_elmo_weights(config.options(), seed=config.seed)
    bilm = CompressedElmoBiLm(weights=weights, requires_grad=True, runtime=ALLENNLP_LOOP)
    return BidirectionalLm(bilm, len(vocabulary), dropout=config.dropout)


def pretrain(
    train: Sentences,
    output_dir: str,
    config: PretrainConfig,
    held_out: Optional[Sentences] = None,
    resume: bool = False,
    force: bool = False,
) -> Tuple[BidirectionalLm, LmVocabulary]:
    """
    Train a biLM from random weights on `train` and write a bundle to `output_dir` (see
    `elmo_compress.lm.bundle`) as a set when training ends. Checkpoints (`output_dir/checkpoint.pt`,
    holding the vocabulary too) every `config.checkpoint_every` steps; with `resume`, continues from
    it exactly, and replaces the bundle of the run it continues. Returns the language model loaded
    back from the written files, which is the model allennlp's `Elmo` will run.
    """
    output = OutputFolder(output_dir, names=bundle.BUNDLE_FILES, force=force or resume)
    with output:
        checkpoint_path = os.path.join(output_dir, CHECKPOINT_NAME)
        resuming = resume and os.path.isfile(checkpoint_path)
        state = read_checkpoint(checkpoint_path, asdict(config), RESUMABLE_CHANGES) if resuming else None
        torch.manual_seed(config.seed)
        vocabulary = LmVocabulary(state["extra"]["vocabulary"]) if state else LmVocabulary.build(train, config.vocabulary_size)
        lm = _initial_lm(config, vocabulary)
        optimizer = torch.optim.Adam([p for p in lm.parameters() if p.requires_grad], lr=config.learning_rate)
        start = restore(state, lm, optimizer) if state is not None else 0
        os.makedirs(output_dir, exist_ok=True)

        def checkpoint(step: int) -> None:
            if step % config.checkpoint_every == 0 or step == config.steps:
                extra = {"vocabulary": vocabulary.tokens}
                save_checkpoint(checkpoint_path, asdict(config), step, lm, optimizer, extra)

        batches = training_batches(train, config.batch_size, config.seed, start_step=start)
        losses = _train_steps(
            lm, optimizer, batches, vocabulary, range(start, config.steps), config.gradient_clip, checkpoint
        )
        record = {"config": asdict(config), "train_sentences": len(train), "vocabulary_size": len(vocabulary)}
        if losses:
            record["last_50_steps_train_perplexity"] = perplexity(sum(losses[-50:]) / len(losses[-50:]))
        staged = output.staged_folder
        bundle.save_bundle(staged, lm, config.options(), vocabulary)
        trained, vocabulary = bundle.load_lm(staged)
        if held_out:
            record["held_out_perplexity"] = asdict(evaluate_perplexity(trained, held_out, vocabulary))
        write_text(output.path(bundle.TRAINING_NAME), json.dumps(record, indent=2, sort_keys=True))
    return trained, vocabulary


def finetune(
    lm: BidirectionalLm,
    train: Sentences,
    vocabulary: LmVocabulary,
    steps: int,
    only_factors: bool = True,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    seed: int = 0,
) -> List[float]:
    """
    Train a compressed biLM on the language-model loss for `steps` steps, in place: only the
    compressed factors (`only_factors`) or every biLM parameter. The softmax stays fixed, so any
    gain is in the biLM that downstream models use. Returns the per-step losses.
    """
    factors = compressed_parameters(lm.bilm)
    if not factors:
        raise ElmoCompressError("this biLM has no compressed matrix to fine-tune")
    trainable = factors if only_factors else list(lm.bilm.parameters())
    for parameter in lm.parameters():
        parameter.requires_grad = False
    for parameter in trainable:
        parameter.requires_grad = True
    torch.manual_seed(seed)
    optimizer = torch.optim.Adam(trainable, lr=learning_rate)
    batches = training_batches(train, batch_size, seed)
    return _train_steps(lm, optimizer, batches, vocabulary, range(steps), gradient_clip=5.0)


def finetuned_weights(lm: BidirectionalLm, options: ElmoOptions, metadata: Dict[str, Any]) -> ElmoWeights:
    """The fine-tuned biLM in the compressed weights format."""
    return weights_from_bilm(lm.bilm, options, metadata)


def finetune_files(
    bundle_dir: str,
    weight_file: str,
    train: Sentences,
    output_dir: str,
    steps: int,
    only_factors: bool = True,
    learning_rate: float = 1e-3,
    seed: int = 0,
    force: bool = False,
) -> ElmoWeights:
    """
    Fine-tune the compressed biLM `weight_file` (made from the bundle's weights) on the bundle's
    language-model loss and write `output_dir/weights.hdf5` and `options.json` as a set.
    """
    options_file = bundle.bundle_path(bundle_dir, bundle.OPTIONS_NAME)
    inputs = (weight_file, options_file, bundle.bundle_path(bundle_dir, bundle.WEIGHTS_NAME))
    names = (bundle.WEIGHTS_NAME, bundle.OPTIONS_NAME)
    with OutputFolder(output_dir, inputs=inputs, names=names, force=force) as output:
        lm, vocabulary = bundle.load_lm(bundle_dir, weight_file=weight_file, requires_grad=True)
        finetune(lm, train, vocabulary, steps, only_factors, learning_rate=learning_rate, seed=seed)
        options = ElmoOptions.from_file(options_file)
        metadata = dict(lm.bilm.weights_metadata)
        metadata["finetune"] = {"steps": steps, "only_factors": only_factors, "seed": seed}
        weights = finetuned_weights(lm, options, metadata)
        weights.save(output.path(bundle.WEIGHTS_NAME))
        options.save(output.path(bundle.OPTIONS_NAME))
    return weights
