"""
`CharacterEncoder`: allennlp's `_ElmoCharacterEncoder` (character CNN, highway layers, projection;
same modules, same state-dict keys, same forward) built from weights already in memory rather than
from a file, so a biLM is read once and can be built with placeholder weights from a layout.
"""

import numpy
import torch
from allennlp.data.token_indexers.elmo_indexer import ELMoCharacterMapper
from allennlp.modules.elmo import _ElmoCharacterEncoder
from allennlp.modules.highway import Highway

from elmo_compress.weights import ElmoWeights
from elmo_compress.weights.layout import tf_char_encoder_to_torch


class CharacterEncoder(_ElmoCharacterEncoder):
    """
    # Parameters

    weights : `ElmoWeights`
        The biLM; only its character-encoder datasets and options are read.
    requires_grad : `bool`, optional (default = `False`)
        If True, compute gradients of the encoder's parameters.
    """

    def __init__(self, weights: ElmoWeights, requires_grad: bool = False) -> None:
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

    def _load_weights(self) -> None:
        options = self._source.options
        loaded = tf_char_encoder_to_torch(self._source.datasets, len(options.filters), options.num_highway)
        self._char_embedding_weights = torch.nn.Parameter(loaded.char_embedding, requires_grad=self.requires_grad)
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


def _assign(module: torch.nn.Module, weight: torch.Tensor, bias: torch.Tensor, requires_grad: bool) -> None:
    with torch.no_grad():
        module.weight.copy_(weight)
        module.bias.copy_(bias)
    module.weight.requires_grad = requires_grad
    module.bias.requires_grad = requires_grad
