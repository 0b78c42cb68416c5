"""
`CompressedElmoBiLm`: allennlp's `_ElmoBiLm` built from official or compressed weights.
"""

import logging
from typing import List, Optional

import torch
from allennlp.modules.elmo import _ElmoBiLm

from elmo_compress.errors import ElmoCompressError
from elmo_compress.factorize import CompressionSpec
from elmo_compress.modules.char_encoder import CharacterEncoder
from elmo_compress.modules.fast_lstm import FastElmoLstm
from elmo_compress.modules.quantize import quantize_bilm
from elmo_compress.modules.runtime_options import RuntimeOptions
from elmo_compress.modules.surgery import load_lstm_weights
from elmo_compress.weights import ElmoWeights, MatrixReport, compress_weights

logger = logging.getLogger(__name__)


class CompressedElmoBiLm(_ElmoBiLm):
    """
    allennlp's `_ElmoBiLm` (character CNN + biLSTM, same forward pass, same state-dict keys) built
    from an official ELMo weights file, from a compressed weights file, from an official file
    compressed on the spot with `compression`, or from `ElmoWeights` in memory.

    `_ElmoBiLm.__init__` is not called because it reads the dense LSTM matrices with
    `ElmoLstm.load_weights`, which a compressed file does not have; this constructor builds the same
    modules (`CharacterEncoder` is allennlp's `_ElmoCharacterEncoder` loaded from memory) and loads
    the LSTM with `load_lstm_weights`.

    # Parameters

    options_file : `str`, optional (default = `None`)
        ELMo JSON options file (with `weight_file`; leave both out when giving `weights`).
    weight_file : `str`, optional (default = `None`)
        ELMo hdf5 weight file, official or compressed.
    requires_grad : `bool`, optional (default = `False`)
        If True, compute gradients of the biLM parameters (factors included) for fine-tuning.
    vocab_to_cache : `List[str]`, optional (default = `None`)
        Words whose character CNN output is computed once and cached, as in allennlp.
    compression : `CompressionSpec`, optional (default = `None`)
        Compress the (official) weights this way before building the modules.
    runtime : `RuntimeOptions`, optional (default = `RuntimeOptions()`)
        Fast path, statefulness, int8 and the character cache (see `RuntimeOptions`).
    weights : `ElmoWeights`, optional (default = `None`)
        The biLM in memory, instead of the two files.
    """

    def __init__(
        self,
        options_file: Optional[str] = None,
        weight_file: Optional[str] = None,
        requires_grad: bool = False,
        vocab_to_cache: Optional[List[str]] = None,
        compression: Optional[CompressionSpec] = None,
        runtime: RuntimeOptions = RuntimeOptions(),
        weights: Optional[ElmoWeights] = None,
    ) -> None:
        if runtime.int8 and requires_grad:
            raise ElmoCompressError("int8 quantization is for inference and cannot be combined with requires_grad")
        if (weights is None) == (options_file is None or weight_file is None):
            raise ElmoCompressError("a biLM is built from an options file and a weight file, or from weights")
        torch.nn.Module.__init__(self)
        if weights is None:
            weights = ElmoWeights.load(options_file, weight_file)
        self.compression_report: List[MatrixReport] = []
        if compression is not None:
            weights, self.compression_report = compress_weights(weights, compression)
        self.weights_metadata = weights.metadata
        self.layout = weights.layout()
        self.is_compressed = weights.is_compressed

        self._token_embedder = CharacterEncoder(weights, requires_grad=requires_grad, char_cache=runtime.char_cache)
        self._requires_grad = requires_grad
        if requires_grad and vocab_to_cache:
            logger.warning("You are fine tuning ELMo and caching char CNN word vectors; see allennlp's _ElmoBiLm.")
        self._word_embedding = None
        self._bos_embedding: torch.Tensor = None
        self._eos_embedding: torch.Tensor = None
        if vocab_to_cache:
            self.create_cached_cnn_embeddings(vocab_to_cache)

        options = weights.options
        self._elmo_lstm = FastElmoLstm(
            **options.elmo_lstm_arguments(),
            requires_grad=requires_grad,
            stateful=runtime.stateful,
            use_fast_path=runtime.fast_path,
        )
        load_lstm_weights(self._elmo_lstm, weights, requires_grad)
        if runtime.int8:
            quantize_bilm(self, character_encoder=not runtime.char_cache)
        self.num_layers = options.num_layers + 1
