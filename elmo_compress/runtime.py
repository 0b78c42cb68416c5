"""
The CPU runtime: what the machine is, MKL's code path on AMD CPUs, and how many threads to use.

This module does not import torch at module level: `apply_cpu_remedies` must run before MKL makes
its first call, and `elmo_compress/__init__.py` calls it before anything imports torch.

MKL on AMD (measured, see docs/runtime.md)
------------------------------------------
torch 1.12.1's wheels link MKL 2020.0.0 statically into `libtorch_cpu.so`. MKL picks its kernels by
CPU vendor: on a non-Intel CPU it takes its generic path whatever the CPU supports.
MKL up to 2020.0 honours `MKL_DEBUG_CPU_TYPE=5`, which forces the AVX2 kernels (MKL 2020 Update 1
removed the variable). On a 2-core AMD EPYC (Zen 5) the fp32 16384x512 product at batch 32 ran at
27 GFLOP/s without the variable and 68-70 with it on 1 thread (56 vs 142 on 2 threads); int8
(fbgemm) does not go through MKL and did not change. `MKL_ENABLE_INSTRUCTIONS` and `MKL_CBWR` only
restrict or pin Intel's dispatch: on AMD they left the generic path in place.

MKL reads the variable lazily, at its first dispatch, not when the library is loaded: setting it
after `import torch` still works provided no MKL routine has run yet in the process (allennlp's
import and plugin loading run none; `allennlp train --include-package elmo_compress` imports this
package before building anything). `mkl_serv_cpu_detect`, an exported symbol of MKL's service
layer, returns the code path MKL dispatches to (0 generic, 4 AVX, 5 AVX2, 7 AVX-512); calling it
fixes the dispatch, which is why only `describe_machine` (for reports, after the remedy) calls it.

Threads
-------
On a shared machine, torch's default (one OpenMP thread per core) can be far slower than one
thread: libgomp's threads spin at every barrier of MKL's parallel GEMMs, and when another process
holds a core the spinning thread and the descheduled one wait on each other for whole scheduler
time slices. `DEFAULT_THREADS` is 1; see `set_threads` and docs/runtime.md.
"""

import ctypes
import os
import re
from dataclasses import asdict, dataclass, field
from typing import Dict, FrozenSet, List, Mapping, MutableMapping, Optional

CPUINFO_PATH = "/proc/cpuinfo"

# Set to 1 (any non-empty value other than "0") to keep `apply_cpu_remedies` from touching anything.
OPT_OUT_VARIABLE = "ELMO_COMPRESS_NO_CPU_REMEDY"
MKL_DEBUG_VARIABLE = "MKL_DEBUG_CPU_TYPE"
# MKL's code for its AVX2 kernels. They need AVX2 and FMA3, which every AMD Zen CPU has.
MKL_AVX2 = "5"
# MKL's internal code-path numbers as `mkl_serv_cpu_detect` returns them (MKL 2020.0).
# 0, 4, 5 and 7 were checked by timing the same GEMM under each (27, 49, 68 and 96 GFLOP/s).
MKL_CODE_PATHS = {0: "generic", 4: "AVX", 5: "AVX2", 6: "AVX-512 (Xeon Phi)", 7: "AVX-512"}

# Torch CPU threads for the `compress-elmo` verbs unless `--threads` says otherwise (0: torch's
# choice, one per core). One thread never spins on a barrier; see the module docstring.
DEFAULT_THREADS = 1
THREADS_HELP = (
    f"torch CPU threads (default: {DEFAULT_THREADS}, safe on a shared machine; 0: torch's choice, one per core, "
    "faster only on cores nobody else uses)"
)


@dataclass(frozen=True)
class CpuInfo:
    """What /proc/cpuinfo says about the first processor, and how many logical CPUs it lists."""

    vendor: str  # "GenuineIntel", "AuthenticAMD", ... ("" when absent)
    model: str  # "model name" ("" when absent)
    flags: FrozenSet[str] = field(default_factory=frozenset)
    logical_cpus: int = 0

    @property
    def is_amd(self) -> bool:
        return self.vendor == "AuthenticAMD"

    @property
    def has_avx2(self) -> bool:
        return "avx2" in self.flags and "fma" in self.flags


def parse_cpuinfo(text: str) -> CpuInfo:
    """Parse the text of /proc/cpuinfo (x86 layout; other layouts give empty fields)."""
    first: Dict[str, str] = {}
    logical_cpus = 0
    for line in text.splitlines():
        key, separator, value = line.partition(":")
        if not separator:
            continue
        key, value = key.strip(), value.strip()
        if key == "processor":
            logical_cpus += 1
        if logical_cpus <= 1:
            first.setdefault(key, value)
    return CpuInfo(
        vendor=first.get("vendor_id", ""),
        model=first.get("model name", ""),
        flags=frozenset(first.get("flags", "").split()),
        logical_cpus=logical_cpus,
    )


def read_cpuinfo(path: str = CPUINFO_PATH) -> Optional[CpuInfo]:
    """The machine's `CpuInfo`, or None where the file is missing or unreadable (not Linux)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as cpuinfo:
            return parse_cpuinfo(cpuinfo.read())
    except OSError:
        return None


def cpu_remedies(cpu: Optional[CpuInfo], environment: Mapping[str, str]) -> Dict[str, str]:
    """
    The environment variables to set for this CPU (the decision only; nothing is changed).

    `MKL_DEBUG_CPU_TYPE=5` on an AMD CPU with AVX2 and FMA3, unless the user has set the variable
    (to anything, even empty) or opted out with `ELMO_COMPRESS_NO_CPU_REMEDY`. Never on Intel CPUs:
    MKL already picks their best path, and 5 would pin an AVX-512 Xeon to AVX2.
    """
    if environment.get(OPT_OUT_VARIABLE, "") not in ("", "0"):
        return {}
    if cpu is None or not cpu.is_amd or not cpu.has_avx2:
        return {}
    if MKL_DEBUG_VARIABLE in environment:
        return {}
    return {MKL_DEBUG_VARIABLE: MKL_AVX2}


def apply_cpu_remedies(
    environment: MutableMapping[str, str] = os.environ, cpuinfo_path: str = CPUINFO_PATH
) -> List[str]:
    """
    Set the variables `cpu_remedies` picks in `environment`; one human-readable line for each
    thing done (or deliberately not done), empty when there was nothing to consider.

    Call it before MKL's first call in the process (best: before `import torch`); a variable the
    user has set is never overridden.
    """
    if environment.get(OPT_OUT_VARIABLE, "") not in ("", "0"):
        return [f"CPU remedies skipped: {OPT_OUT_VARIABLE}={environment[OPT_OUT_VARIABLE]}"]
    cpu = read_cpuinfo(cpuinfo_path)
    if cpu is None or not cpu.is_amd:
        return []
    if MKL_DEBUG_VARIABLE in environment:
        return [f"{MKL_DEBUG_VARIABLE}={environment[MKL_DEBUG_VARIABLE]} left as the user set it"]
    if not cpu.has_avx2:
        return [f"{MKL_DEBUG_VARIABLE} not set: this AMD CPU lacks AVX2/FMA3, MKL's generic path is its only one"]
    lines = []
    for name, value in cpu_remedies(cpu, environment).items():
        environment[name] = value
        lines.append(
            f"{name}={value} set: MKL <= 2020.0 takes its generic path on AMD CPUs; 5 selects its AVX2 kernels "
            f"(opt out with {OPT_OUT_VARIABLE}=1)"
        )
    return lines


def mkl_version() -> Optional[str]:
    """MKL's version line from `torch.__config__.show()`, or None when torch was built without MKL."""
    import torch

    match = re.search(r"Math Kernel Library Version ([^\s]+)", torch.__config__.show())
    return match.group(1) if match else None


def mkl_code_path() -> Optional[int]:
    """
    The code path MKL dispatches to (`MKL_CODE_PATHS`), from `mkl_serv_cpu_detect` in the torch
    library that holds MKL; None where that symbol is not found (not an MKL build, another layout).

    This fixes MKL's dispatch for the rest of the process: call it after `apply_cpu_remedies`.
    """
    import torch

    library_folder = os.path.join(os.path.dirname(torch.__file__), "lib")
    for name in ("libtorch_cpu.so", "libtorch.so", "libmkl_rt.so", "libmkl_rt.so.1"):
        path = os.path.join(library_folder, name)
        if not os.path.exists(path):
            continue
        try:
            detect = ctypes.CDLL(path).mkl_serv_cpu_detect
        except (OSError, AttributeError):
            continue
        detect.restype = ctypes.c_int
        detect.argtypes = []
        return int(detect())
    return None


@dataclass(frozen=True)
class MachineInfo:
    """A machine as reports describe it (`describe_machine`)."""

    cpu_vendor: str
    cpu_model: str
    logical_cpus: int
    torch_version: str
    torch_threads: int
    blas: str  # "MKL 2020.0.0", or torch's BLAS_INFO when it is not MKL
    mkl_debug_cpu_type: Optional[str]  # the variable's value, None when unset
    mkl_code_path: Optional[str]  # e.g. "AVX2 (5)"; None when unknown
    mkl_debug_honoured: Optional[bool]  # None: unset, or MKL's code path unknown
    quantized_engine: str

    def as_dict(self) -> Dict[str, object]:
        return asdict(self)

    def blas_line(self) -> str:
        debug = "unset" if self.mkl_debug_cpu_type is None else self.mkl_debug_cpu_type
        honoured = {None: "", True: ", honoured", False: ", NOT honoured"}[self.mkl_debug_honoured]
        return f"BLAS: {self.blas}, code path {self.mkl_code_path or 'unknown'}; {MKL_DEBUG_VARIABLE} {debug}{honoured}"

    def lines(self) -> List[str]:
        return [
            f"CPU: {self.cpu_vendor} {self.cpu_model}, {self.logical_cpus} logical CPUs",
            f"torch {self.torch_version}, {self.torch_threads} threads, quantized engine {self.quantized_engine}",
            self.blas_line(),
        ]


def describe_machine(
    environment: Mapping[str, str] = os.environ, cpuinfo_path: str = CPUINFO_PATH
) -> MachineInfo:
    """The machine for reports: CPU, torch, BLAS and MKL's code path, threads, int8 engine."""
    import torch

    cpu = read_cpuinfo(cpuinfo_path) or CpuInfo(vendor="", model="", logical_cpus=os.cpu_count() or 0)
    version = mkl_version()
    if version is not None:
        blas = f"MKL {version}"
        code = mkl_code_path()
    else:
        match = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
        blas, code = (match.group(1) if match else "unknown"), None
    debug = environment.get(MKL_DEBUG_VARIABLE)
    honoured: Optional[bool] = None
    if debug is not None and code is not None:
        try:
            honoured = int(debug) == code
        except ValueError:
            honoured = False
    return MachineInfo(
        cpu_vendor=cpu.vendor or "unknown",
        cpu_model=cpu.model or "unknown",
        logical_cpus=cpu.logical_cpus or (os.cpu_count() or 0),
        torch_version=torch.__version__,
        torch_threads=torch.get_num_threads(),
        blas=blas,
        mkl_debug_cpu_type=debug,
        mkl_code_path=None if code is None else f"{MKL_CODE_PATHS.get(code, 'unknown')} ({code})",
        mkl_debug_honoured=honoured,
        quantized_engine=torch.backends.quantized.engine,
    )


def set_threads(threads: int = DEFAULT_THREADS) -> int:
    """
    Use `threads` torch CPU threads (intra-op: OpenMP and MKL; 0 leaves torch's choice, one per
    core) and return the number in effect. `torch.set_num_threads` also sets MKL's count.

    One thread is the default because it cannot be slowed down by other processes the way several
    are (libgomp's spinning barriers, docs/runtime.md); pass the number of idle cores on a machine
    you have to yourself. Waiting threads can be made to sleep instead of spin with
    `OMP_WAIT_POLICY=PASSIVE`, which libgomp reads once, when torch is loaded: it has to be in the
    environment before the process starts.
    """
    import torch

    if threads < 0:
        raise ValueError(f"threads must be >= 0, got {threads}")
    if threads > 0:
        torch.set_num_threads(threads)
    return torch.get_num_threads()
