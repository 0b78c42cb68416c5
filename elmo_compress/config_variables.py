"""
The environment variables that `training_configs/` read with `std.extVar`: their defaults, their
checks, and what is said about them.

allennlp hands every environment variable to jsonnet, and jsonnet fails on an unset one, so on import
this package sets each variable the user has not set (never overriding one): the ELMo files default to
the shipped demo biLM and the data paths to the demo tasks shipped beside it. That is what makes
`allennlp train training_configs/... --include-package elmo_compress` run on a fresh machine.

When the package is imported by the `allennlp` command with a config file (`allennlp train CONFIG`),
the variables that config reads are checked here, before jsonnet sees them: a bad value ends the run
with one line naming the variable (exit status 2), a fallback to the demo default is said in one line
on stderr, and a set variable that looks like one of ours but is not (a misspelling) is reported.
Pure Python: nothing here imports torch.
"""

import difflib
import json
import os
import sys
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Mapping, MutableMapping, Optional, Sequence

from elmo_compress.constants import DEFAULT_TARGET, DEMO_BILM_DIR, DEMO_TASKS_DIR, OPTIONS_NAME, WEIGHTS_NAME

DEFAULT_COMPRESSION = json.dumps({"method": "svd", "target": DEFAULT_TARGET, "fraction": 0.25})
# A set variable with one of these prefixes that is not ours is reported as a likely misspelling.
PREFIXES = ("ELMO_", "SNLI_", "NER_", "SST_", "GLOVE_")
# Variables of this package that are not config variables (they are not reported as unknown).
OTHER_VARIABLES = ("ELMO_COMPRESS_NO_CPU_REMEDY",)
TASKS = (("snli", "SNLI", "jsonl"), ("ner", "NER", "txt"), ("sentiment", "SST", "txt"))
SPLITS = ("train", "dev", "test")

Check = Callable[[str], Optional[str]]  # the value -> what is wrong with it, or None


def _existing_file(value: str) -> Optional[str]:
    return None if os.path.isfile(value) else "no such file"


def _optional_file(value: str) -> Optional[str]:
    if value == "" or value.startswith(("http://", "https://", "s3://", "gs://")):
        return None
    return _existing_file(value)


def _options_file(value: str) -> Optional[str]:
    problem = _existing_file(value)
    if problem is None and elmo_output_dim(value) is None:
        problem = "not an ELMo options file (no integer lstm.projection_dim)"
    return problem


def _compression(value: str) -> Optional[str]:
    try:
        block = json.loads(value)
    except json.JSONDecodeError as error:
        return f"not valid JSON ({error})"
    if block is not None and not isinstance(block, dict):
        return "must be a JSON object (a compression block) or null"
    return None


def _positive_int(value: str) -> Optional[str]:
    return None if value.isdecimal() and int(value) > 0 else "must be a positive integer"


def _one_of(*choices: str) -> Check:
    def check(value: str) -> Optional[str]:
        return None if value in choices else f"must be one of {', '.join(choices)}"

    return check


@dataclass(frozen=True)
class ConfigVariable:
    """One variable: its name, its default (`None`: derived, see `ELMO_DIM`), its check, its meaning."""

    name: str
    default: Optional[str]
    check: Check
    meaning: str


def _variables() -> List[ConfigVariable]:
    variables = [
        ConfigVariable(
            "ELMO_OPTIONS_FILE", os.path.join(DEMO_BILM_DIR, OPTIONS_NAME), _options_file, "ELMo options.json"
        ),
        ConfigVariable(
            "ELMO_WEIGHT_FILE", os.path.join(DEMO_BILM_DIR, WEIGHTS_NAME), _existing_file, "ELMo weights.hdf5"
        ),
        ConfigVariable(
            "ELMO_COMPRESSION", DEFAULT_COMPRESSION, _compression, "the compressed configs' compression block"
        ),
        ConfigVariable("ELMO_DIM", None, _positive_int, "ELMo's output size, 2 x projection_dim"),
        ConfigVariable("GLOVE_50D_PATH", "", _optional_file, "GloVe 50d (NER); empty: random trainable"),
        ConfigVariable("GLOVE_840B_300D_PATH", "", _optional_file, "GloVe 840B 300d (BCN); empty: random"),
        ConfigVariable("SNLI_TOKENIZER", "whitespace", _one_of("whitespace", "spacy"), "SNLI tokenizer"),
        ConfigVariable("SST_USE_SUBTREES", "true", _one_of("true", "false"), "train SST on every subtree"),
    ]
    for task, prefix, extension in TASKS:
        for split in SPLITS:
            default = os.path.join(DEMO_TASKS_DIR, task, f"{split}.{extension}")
            name = f"{prefix}_{split.upper()}_DATA_PATH"
            variables.append(ConfigVariable(name, default, _existing_file, f"{prefix} {split} data"))
    return variables


CONFIG_VARIABLES: Dict[str, ConfigVariable] = {variable.name: variable for variable in _variables()}


def config_defaults() -> Dict[str, str]:
    """Every variable with a fixed default, and that default (`ELMO_DIM` follows `ELMO_OPTIONS_FILE`)."""
    return {name: variable.default for name, variable in CONFIG_VARIABLES.items() if variable.default is not None}


def elmo_output_dim(options_file: str) -> Optional[str]:
    """ELMo's representation size, 2 x the LSTM projection, from an options file (None if unreadable)."""
    try:
        with open(options_file, encoding="utf-8") as options:
            projection = json.load(options)["lstm"]["projection_dim"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(projection, int) or isinstance(projection, bool) or projection < 1:
        return None
    return str(2 * projection)


@dataclass
class ConfigReport:
    """What `apply_config_defaults` did and found."""

    defaulted: List[str] = field(default_factory=list)
    problems: Dict[str, str] = field(default_factory=dict)
    unknown: Dict[str, Optional[str]] = field(default_factory=dict)  # name -> the variable it resembles


def apply_config_defaults(environment: MutableMapping[str, str] = os.environ) -> ConfigReport:
    """Set every unset config variable to its default and check every value; returns what happened."""
    report = ConfigReport()
    for name, default in config_defaults().items():
        if name not in environment:
            environment[name] = default
            report.defaulted.append(name)
    dim = elmo_output_dim(environment["ELMO_OPTIONS_FILE"])
    if "ELMO_DIM" not in environment and dim is not None:
        environment["ELMO_DIM"] = dim
        report.defaulted.append("ELMO_DIM")
    for name, variable in CONFIG_VARIABLES.items():
        if name in environment:
            problem = variable.check(environment[name])
            if problem is not None:
                report.problems[name] = f"{name}={environment[name]!r}: {problem}"
    if "ELMO_DIM" not in report.problems and dim is not None and environment.get("ELMO_DIM") != dim:
        report.problems["ELMO_DIM"] = (
            f"ELMO_DIM={environment['ELMO_DIM']!r}, but ELMO_OPTIONS_FILE gives ELMo vectors of size {dim}"
        )
    known = set(CONFIG_VARIABLES) | set(OTHER_VARIABLES)
    for name in sorted(environment):
        if name.startswith(PREFIXES) and name not in known:
            close = difflib.get_close_matches(name, sorted(CONFIG_VARIABLES), n=1)
            report.unknown[name] = close[0] if close else None
    return report


def config_variables_read(config_file: str, environment: Mapping[str, str]) -> List[str]:
    """
    Our variables that a jsonnet config actually reads: jsonnet evaluates lazily, so a variable is read
    exactly when evaluating the config without it fails on it. Bad values are replaced by their defaults
    for the test, so that one bad variable does not hide the others.
    """
    import _jsonnet  # allennlp's jsonnet binding

    base = {name: value for name, value in environment.items()}
    for name, variable in CONFIG_VARIABLES.items():
        if variable.default is not None and name in base and variable.check(base[name]) is not None:
            base[name] = variable.default
    used = []
    for name in CONFIG_VARIABLES:
        trial = {key: value for key, value in base.items() if key != name}
        try:
            _jsonnet.evaluate_file(config_file, ext_vars=trial)
        except RuntimeError as error:
            if f"external variable: {name}\n" in str(error):  # "undefined external variable: NAME"
                used.append(name)
    return used


def allennlp_config_file(argv: Sequence[str]) -> Optional[str]:
    """The config file of an `allennlp` command line (`allennlp train CONFIG ...`), if this is one."""
    program = os.path.basename(argv[0]) if argv else ""
    if not (program == "allennlp" or argv[0].endswith(os.path.join("allennlp", "__main__.py"))):
        return None
    candidates = [argument for argument in argv[1:] if argument.endswith((".jsonnet", ".json", ".libsonnet"))]
    return next((candidate for candidate in candidates if os.path.isfile(candidate)), None)


def report_for_allennlp(report: ConfigReport, config_file: str, stderr=sys.stderr) -> None:
    """
    Under `allennlp ... CONFIG`: say which variables the config reads fell back to the demo, report
    look-alike unknown variables, and end the run (exit status 2) on a bad value the config reads.
    """
    used = set(config_variables_read(config_file, os.environ))
    if "ELMO_COMPRESSION" in used and "ELMO_COMPRESSION" not in report.problems:
        problem = _compression_block_problem(os.environ.get("ELMO_COMPRESSION", "null"))
        if problem is not None:
            report.problems["ELMO_COMPRESSION"] = problem
    for name in sorted(used & set(report.problems)):
        print(f"elmo_compress: error: {report.problems[name]}", file=stderr)
        raise SystemExit(2)
    defaulted = [name for name in report.defaulted if name in used]
    if defaulted:
        print(
            f"elmo_compress: {config_file} reads {', '.join(defaulted)}, not set: using the shipped demo "
            "(README lists the variables for your own data)",
            file=stderr,
        )
    for name, close in report.unknown.items():
        hint = f" (did you mean {close}?)" if close else ""
        print(f"elmo_compress: {name} is set but is not a variable of the training configs{hint}", file=stderr)


def _compression_block_problem(value: str) -> Optional[str]:
    """The compression block's own check (imports the factorize package, so only under allennlp)."""
    from elmo_compress.errors import ElmoCompressError
    from elmo_compress.factorize import CompressionSpec

    block = json.loads(value)
    if block is None:
        return None
    try:
        CompressionSpec.from_dict(block)
    except ElmoCompressError as error:
        return f"ELMO_COMPRESSION={value!r}: {error}"
    return None


def apply_and_report(environment: MutableMapping[str, str] = os.environ, argv: Sequence[str] = sys.argv) -> None:
    """What importing the package does: set the defaults; under `allennlp ... CONFIG`, report."""
    report = apply_config_defaults(environment)
    config_file = allennlp_config_file(argv)
    if config_file is not None:
        report_for_allennlp(report, config_file)
