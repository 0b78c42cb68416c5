import logging
from typing import List, Optional

import torch
from allennlp.modules.elmo import _ElmoBiLm, _ElmoCharacterEncoder
from allennlp.modules.elmo_lstm import ElmoLstm

from elmo_compress.factorize import CompressionSpec
from elmo_compress.modules.surgery import load_lstm_weights
from elmo_compress.weights import ElmoWeights, MatrixReport, compress_weights

logger = logging.getLogger(__name__)


class CompressedElmoBiLm(_ElmoBiLm):
    """
    allennlp's `_ElmoBiLm` (character CNN + biLSTM, same forward pass, same state-dict keys) built
    from an official ELMo weights file, from a compressed weights file, or from an official file
    compressed on the spot with `compression`.

    `_ElmoBiLm.__init__` is not called because it reads the dense LSTM matrices with
    `ElmoLstm.load_weights`, which a compressed file does not have; this constructor builds the
    same modules and loads the LSTM with `load_lstm_weights` instead. The character encoder is
    allennlp's own, loaded from the same file (a compressed file keeps those datasets unchanged).

    # Parameters

    options_file : `str`
        ELMo JSON options file.
    weight_file : `str`
        ELMo hdf5 weight file, official or compressed.
    requires_grad : `bool`, optional (default = `False`)
        If True, compute gradients of the biLM parameters (factors included) for fine-tuning.
    vocab_to_cache : `List[str]`, optional (default = `None`)
        Words whose character CNN output is computed once and cached, as in allennlp.
    compression : `CompressionSpec`, optional (default = `None`)
        Compress the (official) weights this way before building the modules.
    """

    def __init__(
        self,
        options_file: str,
        weight_file: str,
        requires_grad: bool = False,
        vocab_to_cache: Optional[List[str]] = None,
        compression: Optional[CompressionSpec] = None,
    ) -> None:
        torch.nn.Module.__init__(self)
        weights = ElmoWeights.load(options_file, weight_file)
        self.compression_report: List[MatrixReport] = []
        if compression is not None:
            weights, self.compression_report = compress_weights(weights, compression)
        self.weights_metadata = weights.metadata
        self.is_compressed = weights.is_compressed

        self._token_embedder = _ElmoCharacterEncoder(options_file, weight_file, requires_grad=requires_grad)
        self._requires_grad = requires_grad
        if requires_grad and vocab_to_cache:
            logger.warning("You are fine tuning ELMo and caching char CNN word vectors; see allennlp's _ElmoBiLm.")
        self._word_embedding = None
        self._bos_embedding: torch.Tensor = None
        self._eos_embedding: torch.Tensor = None
        if vocab_to_cache:
            self.create_cached_cnn_embeddings(vocab_to_cache)

        options = weights.options
        self._elmo_lstm = ElmoLstm(
            input_size=options.projection_dim,
            hidden_size=options.projection_dim,
            cell_size=options.cell_dim,
            num_layers=options.num_layers,
            memory_cell_clip_value=options.raw["lstm"]["cell_clip"],
            state_projection_clip_value=options.raw["lstm"]["proj_clip"],
            requires_grad=requires_grad,
        )
        load_lstm_weights(self._elmo_lstm, weights, requires_grad)
        self.num_layers = options.num_layers + 1
