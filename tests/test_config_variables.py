"""
The environment variables the training configs read: defaults that never override a set value, checks
that name the variable, the notice when a config falls back to the demo, and look-alike variables.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from elmo_compress.config_variables import (
    CONFIG_VARIABLES,
    allennlp_config_file,
    apply_config_defaults,
    config_defaults,
    config_variables_read,
)

REPO = Path(__file__).resolve().parents[1]


def test_defaults_never_override_and_elmo_dim_follows_the_options(tmp_path: Path):
    options = tmp_path / "options.json"
    options.write_text('{"lstm": {"projection_dim": 512}}')
    data = tmp_path / "mine.jsonl"
    data.write_text("{}\n")
    environment = {"ELMO_OPTIONS_FILE": str(options), "SNLI_TRAIN_DATA_PATH": str(data)}
    report = apply_config_defaults(environment)
    assert environment["SNLI_TRAIN_DATA_PATH"] == str(data) and environment["ELMO_DIM"] == "1024"
    assert set(config_defaults()) <= set(environment)
    assert "SNLI_TRAIN_DATA_PATH" not in report.defaulted and "ELMO_DIM" in report.defaulted
    assert "NER_TRAIN_DATA_PATH" in report.defaulted and not report.problems


@pytest.mark.parametrize(
    "name, value, expected",
    [
        ("ELMO_COMPRESSION", '{"method": "svd", "rank": ', "not valid JSON"),
        ("ELMO_COMPRESSION", "[1, 2]", "JSON object"),
        ("ELMO_DIM", "big", "positive integer"),
        ("ELMO_DIM", "0", "positive integer"),
        ("ELMO_OPTIONS_FILE", "/no/such/options.json", "no such file"),
        ("NER_TRAIN_DATA_PATH", "/no/such/train.txt", "no such file"),
        ("SNLI_TOKENIZER", "nltk", "whitespace, spacy"),
        ("SST_USE_SUBTREES", "yes", "true, false"),
        ("GLOVE_50D_PATH", "/no/such/glove.txt", "no such file"),
    ],
)
def test_bad_values_are_named(name: str, value: str, expected: str):
    report = apply_config_defaults({name: value})
    assert name in report.problems
    assert report.problems[name].startswith(f"{name}=") and expected in report.problems[name]


def test_elmo_dim_that_contradicts_the_options_is_a_problem():
    report = apply_config_defaults({"ELMO_DIM": "1024"})  # the demo biLM's vectors are 128 wide
    assert "ELMO_DIM" in report.problems and "128" in report.problems["ELMO_DIM"]


def test_look_alike_variables_are_reported_with_the_likely_name():
    report = apply_config_defaults({"NER_TRAIN_DATA_PTH": "x", "ELMO_WEIGHTS_FILE": "y", "ELMO_COMPRESS_NO_CPU_REMEDY": "1"})
    assert report.unknown == {"ELMO_WEIGHTS_FILE": "ELMO_WEIGHT_FILE", "NER_TRAIN_DATA_PTH": "NER_TRAIN_DATA_PATH"}


def test_the_variables_a_config_reads_are_found_by_evaluating_it():
    environment = dict(os.environ)
    apply_config_defaults(environment)
    ner = config_variables_read(str(REPO / "training_configs" / "ner" / "ner_compressed_elmo_small.jsonnet"), environment)
    assert set(ner) == {
        "NER_TRAIN_DATA_PATH", "NER_DEV_DATA_PATH", "ELMO_OPTIONS_FILE", "ELMO_WEIGHT_FILE", "ELMO_COMPRESSION", "ELMO_DIM", "GLOVE_50D_PATH",
    }  # fmt: skip
    plain = config_variables_read(str(REPO / "training_configs" / "sentiment" / "bcn_elmo_small.jsonnet"), environment)
    assert "SST_TEST_DATA_PATH" in plain and "ELMO_COMPRESSION" not in plain and "SST_USE_SUBTREES" not in plain
    environment["ELMO_COMPRESSION"] = "{not json"  # a bad value does not hide what else is read
    assert "NER_DEV_DATA_PATH" in config_variables_read(
        str(REPO / "training_configs" / "ner" / "ner_compressed_elmo_small.jsonnet"), environment
    )


def test_the_allennlp_command_line_is_recognised(tmp_path: Path):
    config = tmp_path / "c.jsonnet"
    config.write_text("{}")
    assert allennlp_config_file(["/venv/bin/allennlp", "train", str(config), "-s", "out"]) == str(config)
    assert allennlp_config_file(["/lib/allennlp/__main__.py", "train", str(config)]) == str(config)
    assert allennlp_config_file(["/venv/bin/compress-elmo", "train", str(config)]) is None
    assert allennlp_config_file(["/venv/bin/allennlp", "evaluate", "model.tar.gz"]) is None


def _allennlp_train(tmp_path: Path, config: str, **variables: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in __import__("os").environ.items() if key not in CONFIG_VARIABLES}
    environment.update(variables)
    command = [str(Path(sys.executable).parent / "allennlp"), "train", config, "-s", str(tmp_path / "run")]
    command += ["--include-package", "elmo_compress", "--dry-run"]
    return subprocess.run(command, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_allennlp_train_names_a_bad_variable_in_one_line(tmp_path: Path):
    config = str(REPO / "training_configs" / "ner" / "ner_compressed_elmo_small.jsonnet")
    completed = _allennlp_train(tmp_path, config, ELMO_COMPRESSION='{"method": "svd", "rank": ')
    assert completed.returncode == 2, completed.stderr[-2000:]
    lines = [line for line in completed.stderr.splitlines() if line.startswith("elmo_compress")]
    assert lines == [lines[0]] and "ELMO_COMPRESSION=" in lines[0] and "not valid JSON" in lines[0], completed.stderr[-2000:]
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_allennlp_train_says_which_variables_fell_back_to_the_demo(tmp_path: Path):
    config = str(REPO / "training_configs" / "ner" / "ner_elmo_small.jsonnet")
    completed = _allennlp_train(tmp_path, config, NER_TRAIN_DATA_PTH="typo.txt")
    notices = [line for line in completed.stderr.splitlines() if line.startswith("elmo_compress: ")]
    assert any("NER_TRAIN_DATA_PATH" in line and "demo" in line for line in notices), completed.stderr[-3000:]
    assert any("NER_TRAIN_DATA_PTH" in line and "did you mean NER_TRAIN_DATA_PATH" in line for line in notices)
    assert not any("SNLI_" in line for line in notices)
