"""
Training and evaluating the biLM as a language model: `pretrain` (from random weights, writes a
bundle), `evaluate_perplexity`, and `finetune` (a compressed biLM, on the same loss).
"""

import json
import math
import os
import tempfile
from dataclasses import asdict, dataclass, field
from typing import Iterator, List, Optional, Sequence, Tuple

import torch
from allennlp.modules.elmo import _ElmoBiLm, batch_to_ids
from tqdm import tqdm

from elmo_compress.atomic import atomic_output
from elmo_compress.errors import ElmoCompressError
from elmo_compress.lm import bundle
from elmo_compress.lm.language_model import BidirectionalLm
from elmo_compress.lm.vocabulary import LmVocabulary
from elmo_compress.modules import LowRankLinear, PrunedLinear, weights_from_bilm
from elmo_compress.weights import ElmoOptions, ElmoWeights
from elmo_compress.weights.synthetic import elmo_options, random_elmo_weights

Sentences = Sequence[List[str]]
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
        forward=math.exp(forward / count),
        backward=math.exp(backward / count),
        mean=math.exp((forward + backward) / (2 * count)),
        tokens=count,
    )


def _train_steps(
    lm: BidirectionalLm,
    optimizer: torch.optim.Optimizer,
    batches: Iterator[List[List[str]]],
    vocabulary: LmVocabulary,
    steps: range,
    gradient_clip: float,
    on_step: Optional[callable] = None,
) -> List[float]:
    """Run `steps`; returns each step's mean NLL. Shows a progress bar with the running perplexity."""
    parameters = [parameter for parameter in lm.parameters() if parameter.requires_grad]
    losses: List[float] = []
    # Shown in logs too (not only on a terminal), at most every 10 seconds there.
    progress = tqdm(steps, desc="training", unit="step", mininterval=10 if not os.isatty(2) else 0.1)
    for step in progress:
        lm.train()
        loss = lm(*batch_tensors(next(batches), vocabulary)).mean()
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, gradient_clip)
        optimizer.step()
        losses.append(float(loss))
        recent = losses[-50:]
        progress.set_postfix(ppl=f"{math.exp(sum(recent) / len(recent)):.1f}")
        if on_step is not None:
            on_step(step + 1)
    return losses


def _save_checkpoint(path: str, lm: BidirectionalLm, optimizer: torch.optim.Optimizer, step: int) -> None:
    state = {
        "step": step,
        "model": lm.state_dict(),
        "optimizer": optimizer.state_dict(),
        "rng": torch.get_rng_state(),
    }
    with atomic_output(path) as temporary:
        torch.save(state, temporary)


def _initial_lm(config: PretrainConfig, vocabulary: LmVocabulary) -> BidirectionalLm:
    """A random biLM in allennlp's own `_ElmoBiLm`, built from a random official weights file."""
    options = config.options()
    with tempfile.TemporaryDirectory() as folder:
        options_file, weight_file = os.path.join(folder, "options.json"), os.path.join(folder, "weights.hdf5")
        options.save(options_file)
        random_elmo_weights(options, seed=config.seed).save(weight_file)
        bilm = _ElmoBiLm(options_file, weight_file, requires_grad=True)
    return BidirectionalLm(bilm, len(vocabulary), dropout=config.dropout)


def pretrain(
    train: Sentences,
    output_dir: str,
    config: PretrainConfig,
    held_out: Optional[Sentences] = None,
    resume: bool = False,
) -> Tuple[BidirectionalLm, LmVocabulary]:
    """
    Train a biLM from random weights on `train` and write a bundle to `output_dir` (see
    `elmo_compress.lm.bundle`). Checkpoints every `config.checkpoint_every` steps; with `resume`,
    continues from the checkpoint in `output_dir`. Returns the language model loaded back from the
    written files, which is the model allennlp's `Elmo` will run.
    """
    torch.manual_seed(config.seed)
    os.makedirs(output_dir, exist_ok=True)
    checkpoint_path = os.path.join(output_dir, CHECKPOINT_NAME)
    vocabulary_path = bundle.bundle_path(output_dir, bundle.VOCABULARY_NAME)
    if resume and os.path.isfile(checkpoint_path):
        vocabulary = LmVocabulary.load(vocabulary_path)
    else:
        vocabulary = LmVocabulary.build(train, max_size=config.vocabulary_size)
        vocabulary.save(vocabulary_path)
    lm = _initial_lm(config, vocabulary)
    optimizer = torch.optim.Adam([p for p in lm.parameters() if p.requires_grad], lr=config.learning_rate)
    start = 0
    if resume and os.path.isfile(checkpoint_path):
        state = torch.load(checkpoint_path)
        lm.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["rng"])
        start = state["step"]

    def checkpoint(step: int) -> None:
        if step % config.checkpoint_every == 0 or step == config.steps:
            _save_checkpoint(checkpoint_path, lm, optimizer, step)

    batches = training_batches(train, config.batch_size, config.seed, start_step=start)
    losses = _train_steps(
        lm, optimizer, batches, vocabulary, range(start, config.steps), config.gradient_clip, checkpoint
    )
    options = config.options()
    options.save(bundle.bundle_path(output_dir, bundle.OPTIONS_NAME))
    weights_from_bilm(lm.bilm, options).save(bundle.bundle_path(output_dir, bundle.WEIGHTS_NAME))
    bundle.save_softmax(lm.softmax, bundle.bundle_path(output_dir, bundle.SOFTMAX_NAME))
    trained, vocabulary = bundle.load_lm(output_dir)
    record = {"config": asdict(config), "train_sentences": len(train), "vocabulary_size": len(vocabulary)}
    if losses:
        record["last_50_steps_train_perplexity"] = math.exp(sum(losses[-50:]) / len(losses[-50:]))
    if held_out:
        record["held_out_perplexity"] = asdict(evaluate_perplexity(trained, held_out, vocabulary))
    with atomic_output(bundle.bundle_path(output_dir, bundle.TRAINING_NAME)) as temporary:
        with open(temporary, "w", encoding="utf-8") as record_file:
            json.dump(record, record_file, indent=2, sort_keys=True)
    return trained, vocabulary


def compressed_parameters(lm: BidirectionalLm) -> List[torch.nn.Parameter]:
    """The factors of every low-rank layer and the kept weights of every pruned layer."""
    parameters: List[torch.nn.Parameter] = []
    for module in lm.bilm.modules():
        if isinstance(module, LowRankLinear):
            parameters += [module.left.weight, module.right.weight]
        elif isinstance(module, PrunedLinear):
            parameters.append(module.weight)
    return parameters


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
    factors = compressed_parameters(lm)
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


def finetuned_weights(lm: BidirectionalLm, options: ElmoOptions, metadata: dict) -> ElmoWeights:
    """The fine-tuned biLM in the compressed weights format."""
    return weights_from_bilm(lm.bilm, options, metadata)
