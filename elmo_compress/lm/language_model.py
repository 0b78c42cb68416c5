from dataclasses import dataclass
from typing import List

import torch
from allennlp.modules.elmo import _ElmoBiLm


@dataclass
class LmLoss:
    """Summed negative log-likelihoods (nats) of one batch and the number of predicted tokens."""

    forward: torch.Tensor
    backward: torch.Tensor
    count: int

    def mean(self) -> torch.Tensor:
        """Mean NLL over both directions: the training loss."""
        return (self.forward + self.backward) / (2 * self.count)


def adaptive_cutoffs(vocabulary_size: int) -> List[int]:
    """Cluster boundaries for the adaptive softmax: frequent words in the head, rare in two tails."""
    cutoffs = [cutoff for cutoff in (2000, 10000) if cutoff < vocabulary_size - 1]
    return cutoffs or [max(1, vocabulary_size // 2)]


class BidirectionalLm(torch.nn.Module):
    """
    The language model that ELMo is trained as: allennlp's `_ElmoBiLm` (or a compressed one) with
    one adaptive softmax over the word vocabulary, shared by both directions (as in bilm-tf). The
    forward direction's top layer at position i predicts token i + 1, the backward direction's
    predicts token i - 1, over `<S> tokens </S>`.

    The biLM's LSTM states are reset before every batch: training and perplexity are stateless.

    # Parameters

    bilm : `_ElmoBiLm`
        The biLM; its top layer is (batch, timesteps + 2, 2 * projection_dim).
    vocabulary_size : `int`
        Size of the softmax.
    dropout : `float`, optional (default = `0.1`)
        Dropout on the top layer before the softmax (training only).
    """

    def __init__(self, bilm: _ElmoBiLm, vocabulary_size: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.bilm = bilm
        self.projection_dim = bilm.get_output_dim() // 2
        self.softmax = torch.nn.AdaptiveLogSoftmaxWithLoss(
            self.projection_dim, vocabulary_size, adaptive_cutoffs(vocabulary_size), div_value=4.0
        )
        self.dropout = torch.nn.Dropout(dropout)

    def forward(self, character_ids: torch.Tensor, word_ids: torch.Tensor) -> LmLoss:
        """
        # Parameters

        character_ids : `torch.Tensor`
            (batch, timesteps, 50) from `batch_to_ids`, without sentence boundaries.
        word_ids : `torch.Tensor`
            (batch, timesteps + 2) vocabulary ids of `<S> tokens </S>`, 0 as padding.
        """
        self.bilm._elmo_lstm.reset_states()
        output = self.bilm(character_ids)
        # shape (batch, timesteps + 2, 2 * projection_dim)
        top = self.dropout(output["activations"][-1])
        # Position i + 1 exists (mask[:, i + 1]) exactly when position i has a target to predict
        # in either direction: forward i -> i + 1, backward i + 1 -> i.
        # shape (batch, timesteps + 1)
        has_target = output["mask"][:, 1:].bool()
        forward = self._nll(top[:, :-1, : self.projection_dim], word_ids[:, 1:], has_target)
        backward = self._nll(top[:, 1:, self.projection_dim :], word_ids[:, :-1], has_target)
        return LmLoss(forward, backward, int(has_target.sum()))

    def _nll(self, states: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        # states: (batch, timesteps + 1, projection_dim) -> (predictions, projection_dim)
        log_probabilities = self.softmax(states[mask], targets[mask]).output
        return -log_probabilities.sum()
