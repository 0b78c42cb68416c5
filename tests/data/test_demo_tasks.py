import json
import random

from allennlp.common import Params
from allennlp.data import DatasetReader
from nltk.tree import Tree

import allennlp_models.pair_classification  # noqa: F401  (registers snli)
import elmo_compress  # noqa: F401  (sets the config defaults)
from elmo_compress.config_variables import config_defaults
from elmo_compress.data.demo_tasks import (
    CLASSIFIER_PACKAGES,
    DocumentedSentence,
    classification_examples,
    code_tags,
    pair_examples,
    snli_line,
    sst_line,
)


def _sentence(package: str, docstring: int, position: int, text: str) -> DocumentedSentence:
    return DocumentedSentence(package, docstring, position, tuple(text.split()))


def test_code_tags_mark_module_attributes_and_identifiers():
    tokens = "Use os . path or run_until_complete ( ) and getLogger getLogger , not os alone .".split()
    tags = code_tags(tokens, ["os", "sys"])
    assert tags == [
        "O", "I-MOD", "O", "O", "O", "I-CODE", "O", "O", "O", "I-CODE", "B-CODE", "O", "O", "O", "O", "O",
    ]  # fmt: skip


def test_sst_lines_are_trees_with_the_label_everywhere():
    tree = Tree.fromstring(sst_line(3, ["Call", "f", "(", ")", "."]))
    assert tree.label() == "3" and tree.leaves() == ["Call", "f", "-LRB-", "-RRB-", "."]
    assert {subtree.label() for subtree in tree.subtrees()} == {"3"}


def test_classification_takes_each_package_in_label_order_and_skips_backslashes():
    sentences = [
        _sentence(package, i, 0, f"About {package} here .") for i, package in enumerate(CLASSIFIER_PACKAGES)
    ]
    sentences.append(_sentence("email", 9, 0, "A \\ backslash ."))
    examples = classification_examples(sentences, per_package=5)
    assert [label for label, _ in examples] == [0, 1, 2, 3, 4]


def test_pairs_follow_the_labelling_rule():
    sentences = [_sentence(p, d, i, f"{p} {d} {i} .") for p, d in (("a", 0), ("a", 1), ("b", 2)) for i in range(4)]
    examples = pair_examples(sentences, 6, random.Random(0))
    assert [label for label, _, _ in examples] == ["entailment", "neutral", "contradiction"] * 2
    for label, premise, hypothesis in examples:
        package, docstring, position = premise[0], premise[1], int(premise[2])
        if label == "entailment":
            assert hypothesis[:3] == [package, docstring, str(position + 1)]
        elif label == "neutral":
            assert hypothesis[0] == package and hypothesis[1] != docstring
        else:
            assert hypothesis[0] != package
    assert json.loads(snli_line("neutral", ["A", "b"], ["C"])) == {
        "gold_label": "neutral",
        "sentence1": "A b",
        "sentence2": "C",
    }


def test_shipped_demo_tasks_read_with_allennlps_readers():
    defaults = config_defaults()
    readers = {
        "SST": ({"type": "sst_tokens", "granularity": "5-class"}, {"0", "1", "2", "3", "4"}),
        "SNLI": (
            {"type": "snli", "tokenizer": {"type": "whitespace"}},
            {"entailment", "neutral", "contradiction"},
        ),
    }
    for prefix, (reader_params, labels) in readers.items():
        reader = DatasetReader.from_params(Params(reader_params))
        instances = list(reader.read(defaults[f"{prefix}_DEV_DATA_PATH"]))
        assert len(instances) > 200 and {instance["label"].label for instance in instances} == labels
    reader = DatasetReader.from_params(Params({"type": "conll2003", "tag_label": "ner", "coding_scheme": "BIOUL"}))
    instances = list(reader.read(defaults["NER_DEV_DATA_PATH"]))
    tags = {tag for instance in instances for tag in instance["tags"].labels}
    assert len(instances) > 200 and {"U-MOD", "U-CODE", "O"} <= tags
