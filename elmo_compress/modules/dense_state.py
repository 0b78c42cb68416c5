from typing import Any, Dict, List

import torch


class LoadsDenseState(torch.nn.Module):
    """
    Base of the layers that stand in for a dense `torch.nn.Linear`: before loading, a state dict
    that holds the dense layer's keys is converted to this layer's own keys by
    `convert_dense_state`. This is how a model trained with plain ELMo loads into a compressed one.
    """

    def convert_dense_state(self, state_dict: Dict[str, torch.Tensor], prefix: str) -> None:
        """Rewrite `state_dict` in place if it holds dense keys under `prefix`."""
        raise NotImplementedError

    def _load_from_state_dict(
        self,
        state_dict: Dict[str, torch.Tensor],
        prefix: str,
        local_metadata: Dict[str, Any],
        strict: bool,
        missing_keys: List[str],
        unexpected_keys: List[str],
        error_msgs: List[str],
    ) -> None:
        self.convert_dense_state(state_dict, prefix)
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )
