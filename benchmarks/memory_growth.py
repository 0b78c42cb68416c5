"""
RSS of a biLSTM over many forward (+ backward) calls on batches of random shapes, one variant per
process (RSS is per process and the allocator's state carries over).

    PYTHONPATH=. python benchmarks/memory_growth.py VARIANT [--steps N] [--backward] [--seed S]
        [--projection 64 --cell 256]

VARIANT: allennlp (ElmoLstm), script / python (FastElmoLstm with the TorchScript or the Python
loop), script_stateless, python_stateless, int8 / int8_python (FastElmoLstm with int8 cells, the
TorchScript or the Python loop; forward only).
Prints one JSON line: RSS in MB at every 10% of the steps, and counts of what the process holds
(live tensors after 10% of the steps and at the end, gc-tracked objects, the stateful state's shape).
"""

import argparse
import ctypes
import copy
import gc
import json
import os
import time
from typing import Dict, Optional, Tuple

import torch
from allennlp.modules.elmo_lstm import ElmoLstm

from elmo_compress.modules import FastElmoLstm, load_lstm_weights
from elmo_compress.modules.quantize import quantize_elmo_lstm
from elmo_compress.weights.synthetic import elmo_options, random_elmo_weights

PROJECTION, CELL = 64, 256


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def build(variant: str, requires_grad: bool, projection: int, cell: int) -> torch.nn.Module:
    weights = random_elmo_weights(elmo_options(projection, cell), seed=0)
    lstm = ElmoLstm(projection, projection, cell, 2, requires_grad, 0.0, 3.0, 3.0)
    load_lstm_weights(lstm, weights, requires_grad=requires_grad)
    if variant == "allennlp":
        return lstm
    if variant.startswith("int8"):
        quantize_elmo_lstm(lstm)
    return FastElmoLstm.from_elmo_lstm(
        lstm, stateful=not variant.endswith("_stateless"), use_torchscript="python" not in variant
    )


MALLINFO2_FIELDS = "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()


class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in MALLINFO2_FIELDS]


def malloc_mb() -> Optional[Dict[str, float]]:
    """glibc's view (mallinfo2, glibc >= 2.33): heap held from the system, in use, free in it, mmapped."""
    try:
        mallinfo2 = ctypes.CDLL("libc.so.6").mallinfo2
    except (OSError, AttributeError):
        return None
    mallinfo2.restype = MallInfo2
    info = mallinfo2()
    return {
        "heap": round(info.arena / 2**20, 1),
        "in_use": round(info.uordblks / 2**20, 1),
        "free_in_heap": round(info.fordblks / 2**20, 1),
        "mmapped": round(info.hblkhd / 2**20, 1),
    }


def live_tensors() -> Tuple[int, float]:
    """How many tensors the Python heap holds, and their MB."""
    tensors = [obj for obj in gc.get_objects() if torch.is_tensor(obj)]
    return len(tensors), round(sum(t.element_size() * t.nelement() for t in tensors) / 2**20, 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("variant")
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--backward", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--projection", type=int, default=PROJECTION)
    parser.add_argument("--cell", type=int, default=CELL)
    args = parser.parse_args()
    torch.set_num_threads(1)
    backward = args.backward and not args.variant.startswith("int8")
    module = build(args.variant, backward, args.projection, args.cell)
    generator = torch.Generator().manual_seed(args.seed)
    samples, start = [], time.perf_counter()
    for step in range(args.steps + 1):
        batch_size = int(torch.randint(1, 65, (1,), generator=generator))
        timesteps = int(torch.randint(1, 61, (1,), generator=generator))
        lengths = torch.randint(1, timesteps + 1, (batch_size,), generator=generator)
        mask = torch.arange(timesteps).unsqueeze(0) < lengths.unsqueeze(1)
        inputs = torch.randn(batch_size, timesteps, args.projection, generator=generator) * mask.unsqueeze(-1)
        if backward:
            inputs.requires_grad_()
            module(inputs, mask).sum().backward()
            module.zero_grad(set_to_none=True)
        else:
            with torch.no_grad():
                module(inputs, mask)
        if step % max(1, args.steps // 10) == 0:
            gc.collect()
            samples.append(round(rss_mb(), 1))
            if step == max(1, args.steps // 10):
                first_tensors, first_malloc = live_tensors(), malloc_mb()
    states = getattr(module, "_states", None)
    print(
        json.dumps(
            {
                "variant": args.variant,
                "backward": backward,
                "steps": args.steps,
                "seconds": round(time.perf_counter() - start, 1),
                "rss_mb": samples,
                "growth_mb_second_half": round(samples[-1] - samples[len(samples) // 2], 1),
                "live_tensors_first": first_tensors,
                "live_tensors_last": live_tensors(),
                "malloc_first": first_malloc,
                "malloc_last": malloc_mb(),
                "gc_objects": len(gc.get_objects()),
                "state_shape": None if states is None else list(states[0].shape),
            }
        )
    )


if __name__ == "__main__":
    main()
