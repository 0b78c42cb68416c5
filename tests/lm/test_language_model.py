import hashlib
from pathlib import Path

import pytest
import torch
from allennlp.modules.elmo import Elmo, _ElmoBiLm, batch_to_ids

from elmo_compress.commands import main
from elmo_compress.data import write_corpus
from elmo_compress.factorize import CompressionSpec
from elmo_compress.lm import evaluate_perplexity, finetune, load_lm, pretrain
from elmo_compress.lm.training import epoch_batches
from elmo_compress.modules import compressed_parameters

from tests.helpers import SENTENCES, tiny_config

@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bundle")
    lm, vocabulary = pretrain(SENTENCES, str(folder), tiny_config(), held_out=SENTENCES[:6])
    return folder, lm, vocabulary


def test_pretraining_lowers_perplexity(trained, tmp_path: Path):
    folder, lm, vocabulary = trained
    untrained, _ = pretrain(SENTENCES, str(tmp_path / "untrained"), tiny_config(steps=0))
    before = evaluate_perplexity(untrained, SENTENCES, vocabulary)
    after = evaluate_perplexity(lm, SENTENCES, vocabulary)
    assert after.forward < 0.5 * before.forward and after.backward < 0.5 * before.backward
    assert after.mean == pytest.approx((after.forward * after.backward) ** 0.5)


def test_allennlp_elmo_loads_the_written_files_and_agrees(trained):
    folder, lm, _ = trained
    options_file, weight_file = str(folder / "options.json"), str(folder / "weights.hdf5")
    character_ids = batch_to_ids(SENTENCES[:5])
    lm.bilm._elmo_lstm.reset_states()
    with torch.no_grad():
        ours = lm.bilm(character_ids)["activations"]
        theirs = _ElmoBiLm(options_file, weight_file)(character_ids)["activations"]
        for our_layer, their_layer in zip(ours, theirs):
            assert torch.equal(our_layer, their_layer)
        elmo = Elmo(options_file, weight_file, 1, dropout=0.0)
        assert elmo(character_ids)["elmo_representations"][0].shape == (5, 9, 16)


def test_resume_continues_exactly(tmp_path: Path):
    straight, _ = pretrain(SENTENCES, str(tmp_path / "straight"), tiny_config(steps=8, checkpoint_every=4))
    pretrain(SENTENCES, str(tmp_path / "resumed"), tiny_config(steps=4, checkpoint_every=4))
    pretrain(SENTENCES, str(tmp_path / "resumed"), tiny_config(steps=8, checkpoint_every=4), resume=True)
    digests = [
        hashlib.sha256((tmp_path / name / "weights.hdf5").read_bytes()).hexdigest()
        for name in ("straight", "resumed")
    ]
    assert digests[0] == digests[1]


def test_batches_cover_the_epoch_once():
    lengths = [len(tokens) for tokens in SENTENCES]
    batches = epoch_batches(len(SENTENCES), lengths, 5, seed=3)
    assert sorted(index for batch in batches for index in batch) == list(range(len(SENTENCES)))
    assert batches == epoch_batches(len(SENTENCES), lengths, 5, seed=3)


def test_full_rank_svd_keeps_perplexity(trained):
    folder, lm, vocabulary = trained
    spec = CompressionSpec.from_dict({"method": "svd", "target": "both", "rank": 8})
    compressed, _ = load_lm(str(folder), compression=spec)
    expected, actual = evaluate_perplexity(lm, SENTENCES, vocabulary), evaluate_perplexity(
        compressed, SENTENCES, vocabulary
    )
    assert actual.mean == pytest.approx(expected.mean, rel=1e-4)


def test_finetuning_factors_recovers_perplexity(trained):
    folder, lm, vocabulary = trained
    spec = CompressionSpec.from_dict({"method": "svd", "target": "recurrent", "rank": 1})
    compressed, _ = load_lm(str(folder), compression=spec, requires_grad=True)
    encoder_before = compressed.bilm._token_embedder._projection.weight.clone()
    before = evaluate_perplexity(compressed, SENTENCES, vocabulary).mean
    losses = finetune(compressed, SENTENCES, vocabulary, steps=25, learning_rate=0.01)
    after = evaluate_perplexity(compressed, SENTENCES, vocabulary).mean
    assert len(losses) == 25 and after < before
    assert torch.equal(compressed.bilm._token_embedder._projection.weight, encoder_before)
    assert len(compressed_parameters(compressed)) == 8  # left and right of 4 recurrent matrices


def test_cli_perplexity_and_finetune(trained, tmp_path: Path, capsys):
    folder, _, _ = trained
    held_out = tmp_path / "held_out.txt"
    write_corpus(SENTENCES[:6], str(held_out))
    arguments = ["compress", str(folder / "options.json"), str(folder / "weights.hdf5"), "-o", str(tmp_path / "c")]
    assert main(arguments + ["--rank", "2", "--target", "recurrent"]) == 0
    compressed_weights = str(tmp_path / "c" / "weights.hdf5")
    assert main(["perplexity", str(folder), "--weights", compressed_weights, "--held-out", str(held_out)]) == 0
    assert '"forward"' in capsys.readouterr().out
    corpus = tmp_path / "train.txt"
    write_corpus(SENTENCES, str(corpus))
    finetuned = tmp_path / "finetuned"
    assert (
        main(
            [
                "finetune",
                str(folder),
                "--weights",
                compressed_weights,
                "-o",
                str(finetuned),
                "--steps",
                "3",
                "--corpus",
                str(corpus),
            ]
        )
        == 0
    )
    lm, _ = load_lm(str(folder), weight_file=str(finetuned / "weights.hdf5"))
    assert lm.bilm.weights_metadata["finetune"]["steps"] == 3


def test_pretrain_on_a_bad_corpus_is_one_line(tmp_path: Path, capsys):
    binary = tmp_path / "corpus.bin"
    binary.write_bytes(b"\x00\xff" * 50)
    assert main(["pretrain", "-o", str(tmp_path / "out"), "--corpus", str(binary), "--steps", "1"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "binary" in error
    assert not (tmp_path / "out").exists()
