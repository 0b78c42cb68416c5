"""The factorize layer is pure tensor math: it must not depend on allennlp (or numpy)."""

import ast
from pathlib import Path

import elmo_compress.factorize

ALLOWED = {"torch", "math", "dataclasses", "typing", "heapq", "elmo_compress"}


def test_factorize_imports_only_torch_and_the_standard_library() -> None:
    folder = Path(elmo_compress.factorize.__file__).parent
    for path in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in ALLOWED, f"{path.name} imports {name}"
                if name.startswith("elmo_compress"):
                    # constants and methods are plain Python (names, defaults, the method registry)
                    allowed = ("elmo_compress.factorize", "elmo_compress.errors", "elmo_compress.constants", "elmo_compress.methods")
                    assert name.startswith(allowed), f"{path.name} imports {name}"
