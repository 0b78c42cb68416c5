"""
`embed_file`: ELMo vectors of every line of a text file, computed by `CompressedElmoBiLm` from an
official or a compressed weights file, written in allennlp 0.9's `allennlp elmo` layout
(`elmo_compress.embed.vectors_file`).

Per batch (`elmo_compress.embed.plan`), as allennlp 0.9's `ElmoEmbedder.embed_batch`: character ids
(`batch_to_ids`), the biLM's activations (layer 0, the token representation, repeated for both
directions; then the two LSTM layers), sentence boundaries removed (`remove_sentence_boundaries`),
each sentence cut to its length, then all layers, the top one or their average.
"""

import collections
from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy
import torch
from allennlp.modules.elmo import batch_to_ids
from allennlp.nn.util import remove_sentence_boundaries

from elmo_compress.constants import DEFAULT_CHAR_CACHE, DEFAULT_EMBED_BATCH_SIZE, EMBED_LAYERS
from elmo_compress.embed.plan import WHOLE_RUN, Shard, batch_plan
from elmo_compress.embed.text import InputText, read_input_text
from elmo_compress.embed.vectors_file import Provenance, sentence_index, vectors_file_bytes
from elmo_compress.errors import EmbedError
from elmo_compress.modules import CompressedElmoBiLm, RuntimeOptions
from elmo_compress.outputs import OutputFile, write_bytes
from elmo_compress.weights import file_sha256

LSTM_STATES = {False: "reset per batch", True: "carried from batch to batch"}


@dataclass(frozen=True)
class EmbedSettings:
    """
    # Parameters

    layers : `str`, optional (default = `"all"`)
        `all`: shape (3, tokens, dim) per sentence; `top`: the top layer, (tokens, dim); `average`:
        the average of the three, (tokens, dim).
    batch_size : `int`, optional (default = `64`)
        Sentences per batch.
    stateful : `bool`, optional (default = `False`)
        False: LSTM states start from zero in every batch (batches sorted by length). True: carried
        from batch to batch, batches of consecutive lines in file order, as allennlp 0.9's
        `allennlp elmo` ran (and as allennlp's ELMo does during training).
    int8 : `bool`, optional (default = `False`)
        Dynamic int8 linear layers (CPU only); with the character cache, the LSTM's only (the character
        encoder stays float, `RuntimeOptions.int8`).
    char_cache : `int`, optional (default = `None`)
        Tokens in the character cache, preloaded with the input's most frequent tokens; 0: none.
        `None`: `DEFAULT_CHAR_CACHE`.
    cuda_device : `int`, optional (default = `-1`)
        The GPU to run on; -1: the CPU.
    shard : `Shard`, optional (default = `None`)
        Compute only this shard's batches (not with `stateful`).
    """

    layers: str = "all"
    batch_size: int = DEFAULT_EMBED_BATCH_SIZE
    stateful: bool = False
    int8: bool = False
    char_cache: Optional[int] = None
    cuda_device: int = -1
    shard: Optional[Shard] = None

    def __post_init__(self) -> None:
        if self.layers not in EMBED_LAYERS:
            raise EmbedError(f"layers must be one of {', '.join(EMBED_LAYERS)}, got {self.layers!r}")
        if self.batch_size < 1:
            raise EmbedError(f"the batch size must be >= 1, got {self.batch_size}")
        if self.stateful and self.shard not in (None, WHOLE_RUN):
            raise EmbedError(
                "--stateful cannot be sharded: its LSTM states flow from each batch into the next, so a shard "
                "would start from other states than one run"
            )
        if self.int8 and self.cuda_device >= 0:
            raise EmbedError("--int8 runs on the CPU only; leave out --cuda-device or --int8")

    @property
    def cache_size(self) -> int:
        return DEFAULT_CHAR_CACHE if self.char_cache is None else self.char_cache


class EmbedProgress:
    """What embedding reports as it goes; this base reports nothing (the CLI shows a bar)."""

    def start(self, tokens: int) -> None:
        """`tokens` tokens will be embedded."""

    def batch(self, tokens: int) -> None:
        """A batch of `tokens` tokens is done."""

    def finish(self) -> None:
        """Every batch is done."""


@dataclass(frozen=True)
class EmbedSummary:
    """What a run computed: sentences and tokens of its batches, of how many lines, and the cache."""

    sentences: int
    tokens: int
    lines: int
    batches: int
    preloaded_tokens: int
    provenance: Provenance

    def describe(self, output_file: str) -> str:
        """Two lines for the command line: what was computed, and how."""
        provenance = self.provenance
        which = f"shard {provenance.shard}: " if provenance.shard != str(WHOLE_RUN) else ""
        cache = f"{self.preloaded_tokens} tokens preloaded" if provenance.char_cache else "off"
        return (
            f"{which}{self.sentences} of {self.lines} lines ({self.tokens} tokens) in {self.batches} batch{'' if self.batches == 1 else 'es'} of up to "
            f"{provenance.batch_size}; wrote {output_file}\n"
            f"layers {provenance.layers}, LSTM states {provenance.lstm_states}, int8 {'on' if provenance.int8 else 'off'}, "
            f"character cache {cache}"
        )


def embed_file(
    options_file: str,
    weight_file: str,
    input_file: str,
    output_file: str,
    settings: EmbedSettings = EmbedSettings(),
    force: bool = False,
    progress: EmbedProgress = EmbedProgress(),
) -> EmbedSummary:
    """
    Write the ELMo vectors of every line of `input_file` (of the shard's batches, with a shard) to
    `output_file`. Bad input (text, weights, settings, output path) raises an `ElmoCompressError`
    before any work and leaves no file behind.
    """
    with OutputFile(output_file, inputs=[input_file, options_file, weight_file], force=force) as output:
        text = read_input_text(input_file)
        device = _device(settings.cuda_device)
        runtime = RuntimeOptions(stateful=settings.stateful, int8=settings.int8, char_cache=settings.cache_size)
        bilm = CompressedElmoBiLm(options_file, weight_file, runtime=runtime).eval().to(device)
        preloaded = preload_frequent_tokens(bilm, text.tokens) if settings.cache_size else 0
        shard = settings.shard or WHOLE_RUN
        batches = shard.batches(batch_plan(text.lengths, settings.batch_size, settings.stateful))

        vectors = {}
        progress.start(sum(len(text.tokens[index]) for batch in batches for index in batch))
        for batch in batches:
            arrays = embed_batch(bilm, [text.tokens[index] for index in batch], device)
            for index, array in zip(batch, arrays):
                vectors[index] = select_layers(array, settings.layers)
            progress.batch(sum(array.shape[1] for array in arrays))
        progress.finish()

        provenance = _provenance(text, options_file, weight_file, settings, shard)
        texts = sentence_index((index, text.lines[index]) for index in sorted(vectors))
        write_bytes(output.path, vectors_file_bytes(vectors, texts, provenance))
    tokens = sum(len(text.tokens[index]) for index in vectors)
    return EmbedSummary(len(vectors), tokens, len(text.lines), len(batches), preloaded, provenance)


def embed_batch(bilm: CompressedElmoBiLm, sentences: Sequence[List[str]], device: torch.device) -> List[numpy.ndarray]:
    """Each sentence's activations, shape (3, tokens, dim), float32, sentence boundaries removed."""
    character_ids = batch_to_ids(list(sentences)).to(device)
    with torch.no_grad():
        output = bilm(character_ids)
    # Per layer: activations (batch_size, timesteps, dim) and mask (batch_size, timesteps), without <S> and </S>.
    layers = [remove_sentence_boundaries(layer, output["mask"]) for layer in output["activations"]]
    # shape (batch_size, 3, timesteps, dim)
    activations = torch.stack([layer for layer, _ in layers], dim=1).cpu()
    lengths = layers[0][1].sum(dim=1).tolist()
    return [numpy.ascontiguousarray(activations[row, :, :length].numpy()) for row, length in enumerate(lengths)]


def select_layers(activations: numpy.ndarray, layers: str) -> numpy.ndarray:
    """(3, tokens, dim) -> what `layers` keeps, as allennlp 0.9's `embed_file` (float32)."""
    if layers == "all":
        return activations
    if layers == "top":
        return numpy.ascontiguousarray(activations[-1])
    return numpy.average(activations, axis=0).astype(numpy.float32, copy=False)


def preload_frequent_tokens(bilm: CompressedElmoBiLm, sentences: Sequence[List[str]]) -> int:
    """
    Preload the character cache with `<S>`, `</S>`, the padding row and the most frequent tokens of
    `sentences` (ties: first seen first), as many as it holds; return how many it holds. Every shard
    reads the whole input, so every shard preloads the same tokens with the same vectors.
    """
    encoder = bilm._token_embedder
    counts = collections.Counter(token for tokens in sentences for token in tokens)
    frequent = [token for token, _ in counts.most_common(encoder.char_cache.size)]
    rows = [encoder.boundary_and_padding_ids()]
    if frequent:
        rows.append(batch_to_ids([[token] for token in frequent])[:, 0])
    device = next(encoder.parameters()).device
    encoder.preload_cache(torch.cat(rows).to(device))
    return len(encoder.char_cache)


def _device(cuda_device: int) -> torch.device:
    if cuda_device < 0:
        return torch.device("cpu")
    if not torch.cuda.is_available():
        reason = "torch was built without CUDA" if torch.version.cuda is None else "torch finds no GPU"
        raise EmbedError(f"--cuda-device {cuda_device}: CUDA is not available here ({reason}); leave it out to run on the CPU")
    if cuda_device >= torch.cuda.device_count():
        raise EmbedError(f"--cuda-device {cuda_device}: there are {torch.cuda.device_count()} GPUs (0 to {torch.cuda.device_count() - 1})")
    return torch.device("cuda", cuda_device)


def _provenance(text: InputText, options_file: str, weight_file: str, settings: EmbedSettings, shard: Shard) -> Provenance:
    return Provenance(
        input_sha256=text.sha256,
        sentences=len(text.lines),
        options_sha256=file_sha256(options_file),
        weights_sha256=file_sha256(weight_file),
        layers=settings.layers,
        batch_size=settings.batch_size,
        lstm_states=LSTM_STATES[settings.stateful],
        int8=int(settings.int8),
        char_cache=settings.cache_size,
        shard=str(shard),
    )
