"""
`CharacterEncoder`: allennlp's `_ElmoCharacterEncoder` (character CNN, highway layers, projection;
same modules, same state-dict keys, same forward) built from weights already in memory rather than
from a file, so a biLM is read once and can be built with placeholder weights from a layout; with an
optional cache of token vectors (`CharCache`).
"""

from typing import Dict, Hashable

import numpy
import torch
from allennlp.data.token_indexers.elmo_indexer import ELMoCharacterMapper
from allennlp.modules.elmo import _ElmoCharacterEncoder
from allennlp.nn.util import add_sentence_boundary_token_ids
from allennlp.modules.highway import Highway

from elmo_compress.modules.char_cache import CharCache
from elmo_compress.weights import ElmoWeights


class CharacterEncoder(_ElmoCharacterEncoder):
    """
    # Parameters

    weights : `ElmoWeights`
        The biLM; only its character encoder and options are read (copied: training the module leaves
        `weights` as it is).
    requires_grad : `bool`, optional (default = `False`)
        If True, compute gradients of the encoder's parameters.
    char_cache : `int`, optional (default = `0`)
        Keep the vectors of up to this many distinct tokens (`CharCache`); 0: no cache. The cache is
        bypassed while gradients are enabled and a parameter of the encoder requires them.
    """

    def __init__(self, weights: ElmoWeights, requires_grad: bool = False, char_cache: int = 0) -> None:
        self._source = weights  # read by _load_weights, dropped right after
        # _ElmoCharacterEncoder.__init__ reads the options file and calls _load_weights; everything else it
        # sets up is repeated here.
        torch.nn.Module.__init__(self)
        self._options = weights.options.raw
        self._weight_file = None
        self.output_dim = weights.options.projection_dim
        self.requires_grad = requires_grad
        self._load_weights()
        del self._source
        # Cached <S> and </S> character ids, +1 for masking, as allennlp's constructor sets them.
        self._beginning_of_sentence_characters = torch.from_numpy(
            numpy.array(ELMoCharacterMapper.beginning_of_sentence_characters) + 1
        )
        self._end_of_sentence_characters = torch.from_numpy(
            numpy.array(ELMoCharacterMapper.end_of_sentence_characters) + 1
        )
        self.char_cache = CharCache(char_cache) if char_cache else None

    def _load_weights(self) -> None:
        options = self._source.options
        loaded = self._source.char_encoder
        self._char_embedding_weights = torch.nn.Parameter(loaded.char_embedding.clone(), requires_grad=self.requires_grad)
        self._convolutions = []
        for i, ((width, number), (weight, bias)) in enumerate(zip(options.filters, loaded.convolutions)):
            conv = torch.nn.Conv1d(in_channels=options.char_embedding_dim, out_channels=number, kernel_size=width)
            _assign(conv, weight, bias, self.requires_grad)
            self._convolutions.append(conv)
            self.add_module(f"char_conv_{i}", conv)
        self._highways = Highway(options.num_filters, options.num_highway, activation=torch.nn.functional.relu)
        for layer, (weight, bias) in zip(self._highways._layers, loaded.highways):
            _assign(layer, weight, bias, self.requires_grad)
        self._projection = torch.nn.Linear(options.num_filters, self.output_dim, bias=True)
        _assign(self._projection, *loaded.projection, self.requires_grad)


    def forward(self, inputs: torch.Tensor) -> Dict[str, torch.Tensor]:
        """
        `_ElmoCharacterEncoder.forward`, through the cache when there is one and the encoder is not
        being trained.

        # Parameters

        inputs : `torch.Tensor`
            Shape (batch_size, timesteps, max_characters) character ids.

        # Returns

        `"token_embedding"`, shape (batch_size, timesteps + 2, dim), and `"mask"`, shape
        (batch_size, timesteps + 2), both with the sentence boundary tokens added.
        """
        training = torch.is_grad_enabled() and any(parameter.requires_grad for parameter in self.parameters())
        if self.char_cache is None or training:
            return super().forward(inputs)
        mask = (inputs > 0).sum(dim=-1) > 0
        # shapes (batch_size, timesteps + 2, max_characters) and (batch_size, timesteps + 2)
        character_ids, mask_with_bos_eos = add_sentence_boundary_token_ids(
            inputs, mask, self._beginning_of_sentence_characters, self._end_of_sentence_characters
        )
        batch_size, timesteps, max_characters = character_ids.size()
        # shape (batch_size * (timesteps + 2), dim): boundary and padding rows are tokens like any other
        vectors = self.char_cache.lookup(character_ids.view(-1, max_characters), self.token_vectors, self._weights_key())
        return {"mask": mask_with_bos_eos, "token_embedding": vectors.view(batch_size, timesteps, -1)}

    def preload_cache(self, character_ids: torch.Tensor) -> None:
        """
        Fill the cache with the token vectors of these rows of character ids, shape
        (tokens, max_characters), in order up to its size, and keep it fixed from then on
        (`CharCache.preload`).
        """
        self.char_cache.preload(character_ids, self.token_vectors, self._weights_key())

    def boundary_and_padding_ids(self) -> torch.Tensor:
        """The character ids of `<S>`, `</S>` and a padding row, shape (3, max_characters): in every batch."""
        bos, eos = self._beginning_of_sentence_characters, self._end_of_sentence_characters
        return torch.stack([bos, eos, torch.zeros_like(bos)])

    def token_vectors(self, character_ids: torch.Tensor) -> torch.Tensor:
        """
        The token representation of each row of character ids: the body of
        `_ElmoCharacterEncoder.forward` (same modules, same operations), without adding sentence
        boundaries.

        # Parameters

        character_ids : `torch.Tensor`
            Shape (tokens, max_characters).

        # Returns

        Shape (tokens, dim).
        """
        # shape (tokens, max_characters, char_embedding_dim)
        character_embedding = torch.nn.functional.embedding(character_ids, self._char_embedding_weights)
        activation = torch.tanh if self._options["char_cnn"]["activation"] == "tanh" else torch.nn.functional.relu
        # shape (tokens, char_embedding_dim, max_characters)
        character_embedding = torch.transpose(character_embedding, 1, 2)
        convolutions = []
        for i in range(len(self._convolutions)):
            convolved = getattr(self, f"char_conv_{i}")(character_embedding)
            # shape (tokens, filters of this width)
            convolved, _ = torch.max(convolved, dim=-1)
            convolutions.append(activation(convolved))
        # shape (tokens, num_filters)
        token_embedding = self._highways(torch.cat(convolutions, dim=-1))
        # shape (tokens, dim)
        return self._projection(token_embedding)

    def _weights_key(self) -> Hashable:
        """Changes whenever a parameter is replaced, moved or modified in place (the cache is then emptied)."""
        return tuple((parameter.data_ptr(), parameter._version, parameter.dtype, parameter.device) for parameter in self.parameters())


def _assign(module: torch.nn.Module, weight: torch.Tensor, bias: torch.Tensor, requires_grad: bool) -> None:
    with torch.no_grad():
        module.weight.copy_(weight)
        module.bias.copy_(bias)
    module.weight.requires_grad = requires_grad
    module.bias.requires_grad = requires_grad
