"""
Small downstream tasks derived from the embedded corpus (docstrings of Python's standard library),
written in the official file formats of the three tasks, so that allennlp's own readers and the
training configs run on any machine without the real datasets. The labels come from where and how
the text appears, not from chance:

- sentiment slot (SST trees, `sst_tokens` reader, 5 classes): which of five standard-library
  packages a docstring sentence documents;
- NER slot (CoNLL-2003 columns, `conll2003` reader, IOB1 tags): code names vs. words: a module name
  followed by an attribute (`MOD`, as in `asyncio . run`) or another identifier (`CODE`: it has an
  underscore or an inner capital, or is called, `name (`);
- SNLI slot (SNLI JSON lines, `snli` reader): a sentence pair is `entailment` when the second
  sentence follows the first in the same docstring, `neutral` when it comes from another docstring
  of the same package, `contradiction` when it comes from another package.

Sentences are split into train / dev / test by docstring, so no docstring feeds two splits.
"""

import json
import os
import random
import re
import sys
from dataclasses import dataclass
from typing import Callable, Dict, Iterator, List, Sequence, Tuple

from elmo_compress.outputs import OutputFolder, write_text
from elmo_compress.data.stdlib_corpus import module_docstrings, sentences_from_text

# Five well-documented, topically distinct packages (labels 0-4, in this order).
CLASSIFIER_PACKAGES = ("asyncio", "email", "logging", "tkinter", "xml")
SPLITS = ("train", "dev", "test")
# Per split: sentences per package (classifier), tagged sentences, sentence pairs.
SIZES = {"train": (300, 1200, 3000), "dev": (60, 300, 600), "test": (60, 300, 600)}
TASK_FILES = {"sentiment": "{split}.txt", "ner": "{split}.txt", "snli": "{split}.jsonl"}

_INNER_CAPITAL = re.compile(r"[a-z][A-Z]")


@dataclass(frozen=True)
class DocumentedSentence:
    package: str  # top-level package or module, e.g. "email"
    docstring: int  # running index of the docstring in the corpus
    position: int  # index of the sentence in its docstring
    tokens: Tuple[str, ...]


def _split_of(docstring: int) -> str:
    return {0: "test", 1: "dev"}.get(docstring % 10, "train")


def documented_sentences() -> List[DocumentedSentence]:
    """Every docstring sentence of the standard library with its package, without duplicates."""
    seen = set()
    sentences = []
    for docstring, (module, text) in enumerate(module_docstrings()):
        package = module.split(".")[0]
        for position, tokens in enumerate(sentences_from_text(text)):
            key = " ".join(tokens)
            if key not in seen:
                seen.add(key)
                sentences.append(DocumentedSentence(package, docstring, position, tuple(tokens)))
    return sentences


def classification_examples(
    sentences: Sequence[DocumentedSentence], per_package: int
) -> List[Tuple[int, List[str]]]:
    """
    (label, tokens): the first `per_package` sentences of each of `CLASSIFIER_PACKAGES`, leaving out
    sentences with a backslash (nltk's tree reader, which `sst_tokens` uses, treats it as an escape).
    """
    examples = []
    for label, package in enumerate(CLASSIFIER_PACKAGES):
        members = [
            sentence for sentence in sentences if sentence.package == package and "\\" not in sentence.tokens
        ]
        chosen = members[:per_package]
        examples.extend((label, list(sentence.tokens)) for sentence in chosen)
    return examples


def code_tags(tokens: Sequence[str], module_names: Sequence[str]) -> List[str]:
    """IOB1 tags (`I-MOD`, `I-CODE`, `B-` when the previous token has the same type, `O`)."""
    modules = set(module_names)
    kinds = []
    for i, token in enumerate(tokens):
        following = tokens[i + 1 : i + 3]
        if token in modules and len(following) == 2 and following[0] == "." and following[1].isidentifier():
            kinds.append("MOD")
        elif "_" in token or _INNER_CAPITAL.search(token) or following[:1] == ["("]:
            kinds.append("CODE" if token.isidentifier() else "")
        else:
            kinds.append("")
    tags = []
    for i, kind in enumerate(kinds):
        if not kind:
            tags.append("O")
        else:
            tags.append(("B-" if i > 0 and kinds[i - 1] == kind else "I-") + kind)
    return tags


def tagging_examples(
    sentences: Sequence[DocumentedSentence], module_names: Sequence[str], count: int
) -> List[Tuple[List[str], List[str]]]:
    """(tokens, tags) of the first `count` sentences that name at least one piece of code."""
    examples = []
    for sentence in sentences:
        tags = code_tags(sentence.tokens, module_names)
        if any(tag != "O" for tag in tags):
            examples.append((list(sentence.tokens), tags))
            if len(examples) == count:
                break
    return examples


def pair_examples(
    sentences: Sequence[DocumentedSentence], count: int, rng: random.Random
) -> List[Tuple[str, List[str], List[str]]]:
    """(label, premise, hypothesis), the three labels in turn, premises in corpus order."""
    by_package: Dict[str, List[DocumentedSentence]] = {}
    for sentence in sentences:
        by_package.setdefault(sentence.package, []).append(sentence)
    # Premises come from packages with more than one docstring, so every label can be drawn.
    premise_packages = {
        package for package, members in by_package.items() if len({s.docstring for s in members}) > 1
    }
    examples = []
    for first, second in zip(sentences, sentences[1:]):
        if len(examples) == count:
            break
        if first.docstring != second.docstring or first.package not in premise_packages:
            continue
        label = ("entailment", "neutral", "contradiction")[len(examples) % 3]
        if label == "neutral":
            second = rng.choice([s for s in by_package[first.package] if s.docstring != first.docstring])
        elif label == "contradiction":
            second = rng.choice(by_package[rng.choice([p for p in sorted(by_package) if p != first.package])])
        examples.append((label, list(first.tokens), list(second.tokens)))
    return examples


def _tree_leaf(token: str) -> str:
    return {"(": "-LRB-", ")": "-RRB-"}.get(token, token)


def sst_line(label: int, tokens: Sequence[str]) -> str:
    """A flat SST tree: every node, leaves included, carries the sentence's label."""
    leaves = " ".join(f"({label} {_tree_leaf(token)})" for token in tokens)
    return f"({label} {leaves})"


def conll_lines(tokens: Sequence[str], tags: Sequence[str]) -> List[str]:
    """
    CoNLL-2003 columns WORD POS CHUNK NER, then a blank line. There are no POS or chunk tags here:
    POS is `-X-`, chunk `O` (the reader converts chunk tags to BIOUL too, so they must be IOB1).
    """
    return [f"{token} -X- O {tag}" for token, tag in zip(tokens, tags)] + [""]


def snli_line(label: str, premise: Sequence[str], hypothesis: Sequence[str]) -> str:
    record = {"gold_label": label, "sentence1": " ".join(premise), "sentence2": " ".join(hypothesis)}
    return json.dumps(record, sort_keys=True)


def _task_lines(
    split_sentences: List[DocumentedSentence], split: str, module_names: Sequence[str], seed: int
) -> Dict[str, Callable[[], Iterator[str]]]:
    per_package, tagged, pairs = SIZES[split]
    rng = random.Random(f"{seed}-{split}")
    return {
        "sentiment": lambda: (
            sst_line(*example) for example in classification_examples(split_sentences, per_package)
        ),
        "ner": lambda: (
            line
            for example in tagging_examples(split_sentences, module_names, tagged)
            for line in conll_lines(*example)
        ),
        "snli": lambda: (snli_line(*example) for example in pair_examples(split_sentences, pairs, rng)),
    }


def demo_task_files() -> List[str]:
    """The files of the demo tasks, relative to their folder: `{sentiment,ner,snli}/{train,dev,test}.*`."""
    return [os.path.join(task, TASK_FILES[task].format(split=split)) for split in SPLITS for task in TASK_FILES]


def write_demo_tasks(output_dir: str, seed: int = 0, force: bool = False) -> Dict[str, Dict[str, str]]:
    """
    Writes `{sentiment,ner,snli}/{train,dev,test}.*` under `output_dir`, as a set; returns the paths by
    task and split. Same Python version and seed, same bytes.
    """
    sentences = documented_sentences()
    packages = {sentence.package for sentence in sentences if sentence.package.isidentifier()}
    module_names = sorted(packages | set(sys.builtin_module_names))
    paths: Dict[str, Dict[str, str]] = {task: {} for task in TASK_FILES}
    with OutputFolder(output_dir, names=demo_task_files(), force=force) as output:
        for split in SPLITS:
            split_sentences = [sentence for sentence in sentences if _split_of(sentence.docstring) == split]
            for task, lines in _task_lines(split_sentences, split, module_names, seed).items():
                name = os.path.join(task, TASK_FILES[task].format(split=split))
                write_text(output.path(name), "".join(line + "\n" for line in lines()))
                paths[task][split] = output.final_path(name)
    return paths
