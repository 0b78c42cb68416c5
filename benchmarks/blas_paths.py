"""
GFLOP/s of ELMo's biLSTM products under MKL's code paths, each setting in a fresh process (MKL
picks its path once per process, at its first call).

    PYTHONPATH=. python benchmarks/blas_paths.py [--threads 1 2] [--batches 1 32] [--lstm]

Settings: MKL_DEBUG_CPU_TYPE unset (MKL's own choice: the generic path on AMD), 5 (AVX2), 7
(AVX-512; only where the CPU has it), and ELMO_COMPRESS_NO_CPU_REMEDY=1 so that importing
elmo_compress does not set the variable. Products: W_h (16384 x 512, per timestep), the
projection (512 x 4096, per timestep) and W_i over 40 timesteps at once. `--lstm` adds tokens/s of
the fast biLSTM at ELMo's dimensions (random weights), batch 32 x 40, no grad.
"""

import argparse
import json
import os
import subprocess
import sys
import time

# name: (out_features, in_features, timesteps in one product)
PRODUCTS = {
    "W_h 16384x512": (16384, 512, 1),
    "projection 512x4096": (512, 4096, 1),
    "W_i x40 steps": (16384, 512, 40),
}


def measure(threads: int, batch: int, lstm: bool) -> dict:
    """Run in the child process."""
    import torch

    from elmo_compress.runtime import describe_machine

    torch.set_num_threads(threads)
    results = {}
    for name, (out_features, in_features, steps) in PRODUCTS.items():
        weight, inputs = torch.randn(out_features, in_features), torch.randn(batch * steps, in_features)
        for _ in range(3):
            torch.nn.functional.linear(inputs, weight)
        best = float("inf")
        for _ in range(5):
            calls, start = 0, time.perf_counter()
            while time.perf_counter() - start < 0.2:
                torch.nn.functional.linear(inputs, weight)
                calls += 1
            best = min(best, (time.perf_counter() - start) / calls)
        results[name] = round(2 * batch * steps * in_features * out_features / best / 1e9, 1)
    if lstm:
        results["fast biLSTM tokens/s"] = round(lstm_tokens_per_second(), 1)
    results["mkl"] = describe_machine().blas_line()
    return results


def lstm_tokens_per_second() -> float:
    import torch
    from allennlp.modules.elmo_lstm import ElmoLstm

    from elmo_compress.modules import FastElmoLstm

    torch.manual_seed(0)
    lstm = FastElmoLstm.from_elmo_lstm(ElmoLstm(512, 512, 4096, 2, False, 0.0, 3.0, 3.0), stateful=False)
    inputs, mask = torch.randn(32, 40, 512), torch.ones(32, 40, dtype=torch.bool)
    with torch.no_grad():
        lstm(inputs, mask)
        start = time.perf_counter()
        for _ in range(2):
            lstm(inputs, mask)
    return 2 * 32 * 40 / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--lstm", action="store_true")
    parser.add_argument("--child", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child[0], args.child[1], args.lstm)))
        return
    from elmo_compress.runtime import read_cpuinfo

    cpu = read_cpuinfo()
    settings = [{"ELMO_COMPRESS_NO_CPU_REMEDY": "1"}, {"MKL_DEBUG_CPU_TYPE": "5"}]
    if cpu is not None and cpu.is_amd and {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= cpu.flags:
        settings.append({"MKL_DEBUG_CPU_TYPE": "7"})
    for batch in args.batches:
        for threads in args.threads:
            for setting in settings:
                environment = {**os.environ, **setting}
                if "MKL_DEBUG_CPU_TYPE" not in setting:
                    environment.pop("MKL_DEBUG_CPU_TYPE", None)
                command = [sys.executable, __file__, "--child", str(threads), str(batch)] + (
                    ["--lstm"] if args.lstm else []
                )
                output = subprocess.run(command, env=environment, capture_output=True, text=True, check=True)
                label = " ".join(f"{key}={value}" for key, value in setting.items())
                print(f"batch {batch}, {threads} thread(s), {label}: {output.stdout.strip()}", flush=True)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
