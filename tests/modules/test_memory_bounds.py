"""
What `FastElmoLstm` keeps between calls stays bounded when every batch has a new shape (see
docs/runtime.md, "Memory"): one compiled loop, no tensors left behind, a stateful state no larger
than the largest batch seen. RSS itself is too noisy for a test; benchmarks/memory_growth.py
measures it.
"""

import gc

import torch
from allennlp.modules.elmo_lstm import ElmoLstm

from elmo_compress.modules import FastElmoLstm, load_lstm_weights
from elmo_compress.modules.fast_lstm import scripted_lstm_recurrence
from elmo_compress.weights.synthetic import elmo_options, random_elmo_weights


def _live_tensors() -> int:
    gc.collect()
    return sum(1 for obj in gc.get_objects() if torch.is_tensor(obj))


def test_many_shapes_keep_one_compiled_loop_and_no_tensors():
    weights = random_elmo_weights(elmo_options(8, 24), seed=0)
    lstm = ElmoLstm(8, 8, 24, 2, requires_grad=True, memory_cell_clip_value=3.0, state_projection_clip_value=3.0)
    load_lstm_weights(lstm, weights, requires_grad=True)
    fast = FastElmoLstm.from_elmo_lstm(lstm, stateful=True, use_torchscript=True)
    generator = torch.Generator().manual_seed(0)
    largest_batch, counts = 0, []
    for step in range(40):
        batch_size = int(torch.randint(1, 13, (1,), generator=generator))
        timesteps = int(torch.randint(1, 16, (1,), generator=generator))
        largest_batch = max(largest_batch, batch_size)
        lengths = torch.randint(1, timesteps + 1, (batch_size,), generator=generator)
        mask = torch.arange(timesteps).unsqueeze(0) < lengths.unsqueeze(1)
        inputs = torch.randn(batch_size, timesteps, 8, generator=generator, requires_grad=True)
        fast(inputs, mask).sum().backward()
        fast.zero_grad(set_to_none=True)
        del inputs
        if step in (10, 39):
            counts.append(_live_tensors())
    assert scripted_lstm_recurrence.cache_info().currsize == 1
    assert counts[1] <= counts[0], "tensors accumulate across calls"
    assert all(state.size(1) == largest_batch and not state.requires_grad for state in fast._states)
