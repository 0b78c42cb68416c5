"""The batch plan and shards (`elmo_compress.embed.plan`) and how the input text is read (`text`)."""

from pathlib import Path

import pytest

from elmo_compress.embed.plan import Shard, batch_plan
from elmo_compress.embed.text import read_input_text
from elmo_compress.embed.vectors_file import sentence_index
from elmo_compress.errors import EmbedError


def test_stateless_plan_sorts_by_length_longest_first_ties_in_line_order():
    lengths = [3, 1, 5, 3, 2, 5, 1]
    assert batch_plan(lengths, 3, stateful=False) == [[2, 5, 0], [3, 4, 1], [6]]


def test_stateful_plan_keeps_file_order():
    assert batch_plan([3, 1, 5, 3, 2], 2, stateful=True) == [[0, 1], [2, 3], [4]]


def test_shards_partition_the_batches():
    plan = batch_plan(list(range(11)), 2, stateful=False)
    shards = [Shard(index, 3).batches(plan) for index in (1, 2, 3)]
    assert shards[0] == [plan[0], plan[3]] and shards[2] == [plan[2], plan[5]]
    assert sorted(sum((batch for shard in shards for batch in shard), [])) == list(range(11))


@pytest.mark.parametrize("text", ["3/2", "0/2", "a/b", "1", "1/0", "-1/2", "1/2/3", ""])
def test_bad_shard_specs(text: str):
    with pytest.raises(EmbedError, match="a shard is K/N with 1 <= K <= N"):
        Shard.parse(text)


def test_good_shard_specs():
    assert Shard.parse("2/4") == Shard(2, 4) and str(Shard.parse(" 1 / 1 ")) == "1/1"


def test_lines_as_allennlp_0_9_read_them(tmp_path: Path):
    path = tmp_path / "input.txt"
    path.write_bytes("\ufeff  first   line \r\nsecond\tline\rthird\n".encode("utf-8"))
    text = read_input_text(str(path))
    assert text.lines == ["first   line", "second\tline", "third"]
    assert text.tokens == [["first", "line"], ["second", "line"], ["third"]]
    assert len(text.sha256) == 64


def test_no_final_newline_and_whitespace_only_line(tmp_path: Path):
    path = tmp_path / "input.txt"
    path.write_text("one\ntwo", encoding="utf-8")
    assert read_input_text(str(path)).lines == ["one", "two"]
    path.write_text("one\n \t \nthree\n\n", encoding="utf-8")
    with pytest.raises(EmbedError, match=r"2 blank line\(s\) \(line 2, 4\)"):
        read_input_text(str(path))


def test_sentence_index_keeps_the_last_index_in_index_order():
    assert sentence_index([(0, "a"), (1, "b"), (2, "a"), (3, "c")]) == {"b": "1", "a": "2", "c": "3"}
    assert list(sentence_index([(0, "a"), (1, "b"), (2, "a"), (3, "c")])) == ["b", "a", "c"]
    # the same from shards given in any order
    assert sentence_index([(3, "c"), (2, "a"), (0, "a"), (1, "b")]) == {"b": "1", "a": "2", "c": "3"}
