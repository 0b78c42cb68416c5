"""The pure parts of elmo_compress.runtime: /proc/cpuinfo parsing and the MKL remedy decision."""

import subprocess
import sys
from pathlib import Path

import pytest

from elmo_compress import runtime
from elmo_compress.runtime import (
    MKL_DEBUG_VARIABLE,
    OPT_OUT_VARIABLE,
    apply_cpu_remedies,
    cpu_remedies,
    parse_cpuinfo,
)

FLAGS_ZEN = "fpu vme sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c bmi1 avx2 bmi2 sha_ni"
FLAGS_SKYLAKE_X = "fpu vme sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c avx2 bmi2 avx512f avx512dq avx512bw avx512vl"
FLAGS_BULLDOZER = "fpu vme sse sse2 ssse3 fma4 sse4_1 sse4_2 avx xop"


def cpuinfo_text(vendor: str, model: str, flags: str, processors: int = 2) -> str:
    blocks = []
    for index in range(processors):
        blocks.append(
            f"processor\t: {index}\nvendor_id\t: {vendor}\ncpu family\t: 25\nmodel name\t: {model}\n"
            f"flags\t\t: {flags}\nbogomips\t: 5192.24\n"
        )
    return "\n".join(blocks)


AMD_ZEN = cpuinfo_text("AuthenticAMD", "AMD EPYC 7763 64-Core Processor", FLAGS_ZEN, processors=4)
INTEL = cpuinfo_text("GenuineIntel", "Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz", FLAGS_SKYLAKE_X)
AMD_NO_AVX2 = cpuinfo_text("AuthenticAMD", "AMD Opteron(tm) Processor 6272", FLAGS_BULLDOZER)


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "cpuinfo"
    path.write_text(text)
    return str(path)


def test_parse_amd():
    cpu = parse_cpuinfo(AMD_ZEN)
    assert (cpu.vendor, cpu.model, cpu.logical_cpus) == ("AuthenticAMD", "AMD EPYC 7763 64-Core Processor", 4)
    assert cpu.is_amd and cpu.has_avx2


def test_parse_intel():
    cpu = parse_cpuinfo(INTEL)
    assert cpu.vendor == "GenuineIntel" and cpu.logical_cpus == 2
    assert not cpu.is_amd and cpu.has_avx2 and "avx512f" in cpu.flags


def test_parse_amd_without_avx2():
    cpu = parse_cpuinfo(AMD_NO_AVX2)
    assert cpu.is_amd and not cpu.has_avx2


def test_parse_other_layouts_give_empty_fields():
    # e.g. an ARM /proc/cpuinfo: no vendor_id, no flags
    cpu = parse_cpuinfo("processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd\n\nprocessor\t: 1\n")
    assert (cpu.vendor, cpu.model, cpu.flags, cpu.logical_cpus) == ("", "", frozenset(), 2)
    assert cpu_remedies(cpu, {}) == {}


def test_remedy_only_on_amd_with_avx2():
    assert cpu_remedies(parse_cpuinfo(AMD_ZEN), {}) == {MKL_DEBUG_VARIABLE: "5"}
    assert cpu_remedies(parse_cpuinfo(INTEL), {}) == {}
    assert cpu_remedies(parse_cpuinfo(AMD_NO_AVX2), {}) == {}
    assert cpu_remedies(None, {}) == {}


@pytest.mark.parametrize("value", ["5", "4", "", "abc"])
def test_a_value_the_user_set_is_never_overridden(tmp_path, value):
    environment = {MKL_DEBUG_VARIABLE: value}
    lines = apply_cpu_remedies(environment, write(tmp_path, AMD_ZEN))
    assert environment == {MKL_DEBUG_VARIABLE: value}
    assert lines == [f"{MKL_DEBUG_VARIABLE}={value} left as the user set it"]


def test_apply_sets_the_variable_on_amd(tmp_path):
    environment = {}
    lines = apply_cpu_remedies(environment, write(tmp_path, AMD_ZEN))
    assert environment == {MKL_DEBUG_VARIABLE: "5"}
    assert len(lines) == 1 and lines[0].startswith(f"{MKL_DEBUG_VARIABLE}=5 set")


@pytest.mark.parametrize("text", [INTEL, AMD_NO_AVX2])
def test_apply_leaves_other_cpus_alone(tmp_path, text):
    environment = {}
    apply_cpu_remedies(environment, write(tmp_path, text))
    assert environment == {}


@pytest.mark.parametrize("opt_out", ["1", "yes"])
def test_opt_out(tmp_path, opt_out):
    environment = {OPT_OUT_VARIABLE: opt_out}
    lines = apply_cpu_remedies(environment, write(tmp_path, AMD_ZEN))
    assert environment == {OPT_OUT_VARIABLE: opt_out}
    assert lines == [f"CPU remedies skipped: {OPT_OUT_VARIABLE}={opt_out}"]


def test_opt_out_zero_does_not_opt_out(tmp_path):
    environment = {OPT_OUT_VARIABLE: "0"}
    apply_cpu_remedies(environment, write(tmp_path, AMD_ZEN))
    assert environment[MKL_DEBUG_VARIABLE] == "5"


def test_missing_cpuinfo(tmp_path):
    environment = {}
    assert apply_cpu_remedies(environment, str(tmp_path / "absent")) == []
    assert environment == {}


def test_runtime_module_does_not_import_torch():
    # apply_cpu_remedies is meant to run before torch is loaded: the module must not load it.
    # Import the module file on its own, without the package's __init__ (which loads allennlp).
    source = Path(runtime.__file__)
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('runtime_alone', {str(source)!r})\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "module.apply_cpu_remedies({})\n"
        "print('torch' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_describe_machine_reports_the_variable_it_sees():
    info = runtime.describe_machine(environment={})
    assert info.mkl_debug_cpu_type is None and info.mkl_debug_honoured is None
    assert info.logical_cpus > 0 and info.torch_version
    assert len(info.lines()) == 3 and set(info.as_dict()) >= {"cpu_vendor", "blas", "quantized_engine"}


def test_set_threads():
    import torch

    before = torch.get_num_threads()
    try:
        assert runtime.set_threads(1) == 1
        assert runtime.set_threads(0) == 1  # 0 leaves the count as it is
        with pytest.raises(ValueError):
            runtime.set_threads(-1)
    finally:
        torch.set_num_threads(before)
