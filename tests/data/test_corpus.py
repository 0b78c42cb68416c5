from pathlib import Path

import pytest

from elmo_compress.commands import main
from elmo_compress.data import CorpusError, read_corpus, split_held_out, stdlib_sentences, write_corpus


def test_embedded_corpus_is_real_deterministic_english():
    sentences = stdlib_sentences()
    assert sentences == stdlib_sentences()
    assert len(sentences) > 5000
    assert all(tokens[-1] in ".!?" and 5 <= len(tokens) <= 40 for tokens in sentences)
    words = {token.lower() for tokens in sentences for token in tokens}
    assert {"the", "function", "returns", "module", "string"} <= words
    assert len({" ".join(tokens) for tokens in sentences}) == len(sentences)  # no duplicates


def test_limit_and_pydoc_topics_first():
    first = stdlib_sentences(limit=50)
    assert len(first) == 50 and first == stdlib_sentences(limit=50, docstrings=False)


def test_split_is_deterministic_and_disjoint():
    sentences = [[f"w{i}", "x"] for i in range(25)]
    split = split_held_out(sentences, every=5)
    assert [tokens[0] for tokens in split.held_out] == ["w0", "w5", "w10", "w15", "w20"]
    assert len(split.train) == 20
    with pytest.raises(CorpusError, match="too few"):
        split_held_out(sentences[:1], every=5)


def test_write_then_read_round_trip(tmp_path: Path):
    sentences = [["Hello", "world", "."], ["A", "second", "line", "."]]
    write_corpus(sentences, str(tmp_path / "corpus.txt"))
    assert read_corpus(str(tmp_path / "corpus.txt")) == sentences


@pytest.mark.parametrize(
    "content,message",
    [
        (b"", "is empty"),
        (b"\n \n\t\n", "is empty"),
        (b"\x00\x01\x02binary\x00", "is binary"),
        (b"caf\xe9 au lait .\n", "not UTF-8"),
        (("word " * 200 + "\n").encode(), "has no sentence of 1 to 100 tokens"),
    ],
)
def test_bad_corpus_files(tmp_path: Path, content: bytes, message: str):
    path = tmp_path / "corpus.txt"
    path.write_bytes(content)
    with pytest.raises(CorpusError, match=message):
        read_corpus(str(path))


def test_missing_corpus_file(tmp_path: Path):
    with pytest.raises(CorpusError, match="not found"):
        read_corpus(str(tmp_path / "none.txt"))


def test_corpus_command_splits_a_user_corpus(tmp_path: Path, capsys):
    source = tmp_path / "mine.txt"
    write_corpus([[f"sentence{i}", "."] for i in range(30)], str(source))
    assert main(["corpus", "--input", str(source), "-o", str(tmp_path / "out"), "--every", "3"]) == 0
    assert len(read_corpus(str(tmp_path / "out" / "train.txt"))) == 20
    assert len(read_corpus(str(tmp_path / "out" / "heldout.txt"))) == 10
    assert "20 sentences" in capsys.readouterr().out


def test_corpus_command_bad_input_is_one_line(tmp_path: Path, capsys):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert main(["corpus", "--input", str(empty), "-o", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "is empty" in error
    assert not (tmp_path / "out").exists()
