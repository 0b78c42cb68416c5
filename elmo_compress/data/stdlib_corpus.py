"""
The embedded default corpus: real English sentences that every machine with Python has, without
network. Two sources, both read in a fixed order:

- the documentation topics shipped in `pydoc_data.topics` (the language reference's prose);
- the docstrings of the standard library's own source files (modules, classes and functions),
  read with `ast`, without importing anything.

The text, and so the corpus size, depends on the Python version (docs/corpus.md gives the numbers
for the interpreter the project uses and the command that prints them).
"""

import ast
import os
import re
import sysconfig
from typing import Iterator, List, Tuple

_TOKEN = re.compile(r"\w+|[^\w\s]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_SKIPPED_FOLDERS = {"site-packages", "dist-packages", "test", "tests", "idlelib", "lib2to3", "__pycache__"}


def tokenize(text: str) -> List[str]:
    """Words and single punctuation marks."""
    return _TOKEN.findall(text)


def _is_prose(tokens: List[str]) -> bool:
    """Most tokens are plain words (code, signatures and tables are not)."""
    words = sum(token.isalpha() for token in tokens)
    return words >= 0.6 * len(tokens)


def sentences_from_text(text: str, min_tokens: int = 5, max_tokens: int = 40) -> Iterator[List[str]]:
    """Tokenized prose sentences of a text, skipping indented blocks and doctests."""
    for paragraph in re.split(r"\n\s*\n", text):
        if paragraph.startswith((" ", "\t")) or ">>>" in paragraph:
            continue  # indented blocks are code or grammar
        for sentence in _SENTENCE_END.split(" ".join(paragraph.split())):
            tokens = tokenize(sentence)
            if min_tokens <= len(tokens) <= max_tokens and sentence[-1:] in ".!?" and _is_prose(tokens):
                yield tokens


def _pydoc_topics() -> Iterator[str]:
    from pydoc_data.topics import topics

    for name in sorted(topics):
        yield topics[name]


def module_docstrings() -> Iterator[Tuple[str, str]]:
    """(dotted module name, docstring) for every module, class and function docstring of the standard
    library's source files, in a fixed order (folders and files sorted)."""
    root = sysconfig.get_paths()["stdlib"]
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(name for name in subfolders if name not in _SKIPPED_FOLDERS)
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            path = os.path.join(folder, name)
            try:
                with open(path, encoding="utf-8") as source:
                    tree = ast.parse(source.read())
            except (SyntaxError, UnicodeDecodeError, ValueError):
                continue
            module = os.path.relpath(path, root)[: -len(".py")].replace(os.sep, ".")
            for node in ast.walk(tree):
                if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                    docstring = ast.get_docstring(node)
                    if docstring:
                        yield module, docstring


def _stdlib_docstrings() -> Iterator[str]:
    return (docstring for _, docstring in module_docstrings())


def stdlib_sentences(limit: int = 0, docstrings: bool = True) -> List[List[str]]:
    """
    Tokenized sentences of the embedded corpus, pydoc topics first, then (with `docstrings`) the
    standard library's docstrings, each source in a fixed order, without duplicates. `limit` > 0
    keeps the first `limit` sentences.
    """
    texts = [_pydoc_topics()] + ([_stdlib_docstrings()] if docstrings else [])
    seen = set()
    sentences: List[List[str]] = []
    for source in texts:
        for text in source:
            for tokens in sentences_from_text(text):
                key = " ".join(tokens)
                if key in seen:
                    continue
                seen.add(key)
                sentences.append(tokens)
                if 0 < limit <= len(sentences):
                    return sentences
    return sentences


def default_split() -> Tuple[List[List[str]], List[List[str]]]:
    """(train, held-out) of the embedded default corpus: every 10th sentence held out."""
    from elmo_compress.data.corpus import split_held_out

    split = split_held_out(stdlib_sentences())
    return split.train, split.held_out
