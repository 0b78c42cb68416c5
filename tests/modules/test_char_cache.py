"""
The character cache (`CharCache`, `RuntimeOptions.char_cache`): the biLM gives the same outputs with
and without it, sentence boundaries and padding included; it stays within its size and evicts the
least recently used token; a preloaded cache stays fixed, so a batch's result does not depend on the
batches before it; it is bypassed while the encoder trains and emptied when the weights change.

"The same outputs" is up to float32 rounding, not bit for bit: the cache encodes a token in a product
with other rows than the uncached encoder does, and a float32 CPU product rounds a row differently
depending on the number of rows and on how the BLAS splits them between threads (see
elmo_compress/modules/char_cache.py). What the cache does with the vectors is checked exactly, with
an encoder that computes in integers.
"""

import random
from typing import List

import pytest
import torch
from allennlp.common import Params
from allennlp.modules.elmo import batch_to_ids
from allennlp.modules.token_embedders import TokenEmbedder
from allennlp.nn.util import add_sentence_boundary_token_ids

from elmo_compress.embedders import CompressedElmo
from elmo_compress.errors import ElmoCompressError
from elmo_compress.modules import CompressedElmoBiLm, RuntimeOptions, quantize_elmo_lstm
from elmo_compress.modules.char_cache import CharCache

WORDS = "the a cat dog sat ran on under mat log saw , . quickly ELMo vectors compress low-rank SVD".split()


def _sentences(count: int, seed: int) -> List[List[str]]:
    """Sentences of 1 to 12 words from a small vocabulary (so tokens repeat across batches)."""
    rng = random.Random(seed)
    return [[rng.choice(WORDS) for _ in range(rng.randint(1, 12))] for _ in range(count)]


def _bilm(files, **runtime) -> CompressedElmoBiLm:
    return CompressedElmoBiLm(*files, runtime=RuntimeOptions(stateful=False, **runtime)).eval()


def _run(bilm: CompressedElmoBiLm, sentences: List[List[str]]):
    with torch.no_grad():
        return bilm(batch_to_ids(sentences))


def test_token_vectors_is_allennlps_encoder(demo_bilm):
    """The cache encodes with `token_vectors`: `_ElmoCharacterEncoder.forward` on rows with boundaries already added."""
    encoder = _bilm(demo_bilm)._token_embedder
    character_ids = batch_to_ids(_sentences(5, seed=0))
    rows, _ = add_sentence_boundary_token_ids(
        character_ids,
        (character_ids > 0).sum(dim=-1) > 0,
        encoder._beginning_of_sentence_characters,
        encoder._end_of_sentence_characters,
    )
    with torch.no_grad():
        expected = encoder(character_ids)["token_embedding"]
        actual = encoder.token_vectors(rows.view(-1, rows.size(-1)))
    assert torch.equal(actual, expected.view(-1, expected.size(-1)))


def _assert_same_outputs(actual, expected) -> None:
    assert torch.equal(actual["mask"], expected["mask"])
    padding = ~expected["mask"]
    for layer, reference in zip(actual["activations"], expected["activations"]):
        torch.testing.assert_close(layer, reference, rtol=0, atol=1e-5)
        assert not layer[padding].any()  # padding stays exactly zero in every layer


@pytest.mark.parametrize("batch_size", [32, 3])
def test_cached_biLM_gives_the_uncached_outputs(demo_bilm, batch_size: int):
    plain, cached = _bilm(demo_bilm), _bilm(demo_bilm, char_cache=10_000)
    for seed in range(3):  # a cold cache, then batches that mostly hit it
        sentences = _sentences(batch_size, seed)
        _assert_same_outputs(_run(cached, sentences), _run(plain, sentences))
    assert cached._token_embedder.char_cache.hits > 0


def test_encoder_rows_with_boundaries_and_padding_are_the_uncached_ones(demo_bilm):
    plain, cached = _bilm(demo_bilm), _bilm(demo_bilm, char_cache=10_000)
    character_ids = batch_to_ids(_sentences(32, seed=4))
    with torch.no_grad():
        expected, actual = plain._token_embedder(character_ids), cached._token_embedder(character_ids)
    assert torch.equal(actual["mask"], expected["mask"])
    # Every row: <S>, tokens, </S> and the padding rows (which the biLM masks later).
    assert not expected["mask"].all()
    torch.testing.assert_close(actual["token_embedding"], expected["token_embedding"], rtol=0, atol=1e-5)


def test_preloaded_cache_gives_the_uncached_outputs_and_stays_fixed(demo_bilm):
    plain, cached = _bilm(demo_bilm), _bilm(demo_bilm, char_cache=10)
    encoder = cached._token_embedder
    encoder.preload_cache(torch.cat([encoder.boundary_and_padding_ids(), batch_to_ids([[word] for word in WORDS])[:, 0]]))
    assert len(encoder.char_cache) == 10 and encoder.char_cache.frozen
    sentences = _sentences(32, seed=5)
    _assert_same_outputs(_run(cached, sentences), _run(plain, sentences))
    assert len(encoder.char_cache) == 10 and encoder.char_cache.misses > 0


def test_with_a_preloaded_cache_a_batch_does_not_depend_on_the_batches_before(demo_bilm):
    runs = []
    for before in ([], [_sentences(17, seed=6), _sentences(5, seed=7)]):
        bilm = _bilm(demo_bilm, char_cache=8)
        bilm._token_embedder.preload_cache(batch_to_ids([[word] for word in WORDS[::2]])[:, 0])
        for sentences in before:
            _run(bilm, sentences)
        runs.append(_run(bilm, _sentences(9, seed=8))["activations"])
    for layer, reference in zip(*runs):
        assert torch.equal(layer, reference)


def _toy_encoder(calls: List[int]):
    def encode(character_ids: torch.Tensor) -> torch.Tensor:
        calls.append(character_ids.size(0))
        return character_ids[:, :2].float() * 10.0  # a "vector" that shows which token it came from

    return encode


def _tokens(*codes: int) -> torch.Tensor:
    return torch.tensor([[code, code + 1] + [0] * 48 for code in codes])


def test_least_recently_used_token_leaves_first():
    calls: List[int] = []
    cache, encode = CharCache(2), _toy_encoder(calls)
    cache.lookup(_tokens(1, 2), encode, weights="w")
    cache.lookup(_tokens(1), encode, weights="w")  # 1 is now more recent than 2
    cache.lookup(_tokens(3), encode, weights="w")  # evicts 2
    assert len(cache) == 2 and (cache.hits, cache.misses) == (1, 3)
    vectors = cache.lookup(_tokens(3, 1, 2, 3), encode, weights="w")
    assert torch.equal(vectors, _tokens(3, 1, 2, 3)[:, :2].float() * 10.0)
    assert (cache.hits, cache.misses) == (3, 4)  # 3 once (distinct rows are looked up once) and 1 hit, 2 missed
    assert calls == [2, 1, 1]  # one product per lookup with misses, of the distinct missing tokens


def test_cache_stays_within_its_size(demo_bilm):
    bilm = _bilm(demo_bilm, char_cache=25)
    for seed in range(4):
        _run(bilm, _sentences(8, seed))
        cache = bilm._token_embedder.char_cache
        assert len(cache) <= 25 and cache._vectors.size(0) <= 25
    # A batch with more distinct tokens than the cache holds: its last ones stay.
    cache = CharCache(3)
    vectors = cache.lookup(_tokens(*range(1, 11)), _toy_encoder([]), weights="w")
    assert len(cache) == 3 and vectors.size(0) == 10


def test_preload_keeps_the_first_distinct_tokens_and_then_stays_fixed():
    calls: List[int] = []
    cache, encode = CharCache(3), _toy_encoder(calls)
    cache.preload(_tokens(1, 1, 2, 3, 4, 5), encode, weights="w")
    assert len(cache) == 3 and cache.frozen and calls == [3]
    vectors = cache.lookup(_tokens(4, 1, 4), encode, weights="w")
    assert torch.equal(vectors, _tokens(4, 1, 4)[:, :2].float() * 10.0)
    assert len(cache) == 3 and calls == [3, 1]  # 4 was encoded with its batch, not kept
    assert cache.lookup(_tokens(4), encode, weights="w").shape == (1, 2) and calls == [3, 1, 1]
    cache.lookup(_tokens(4), encode, weights="new weights")  # emptied, and filled as tokens come again
    assert not cache.frozen and len(cache) == 1


def test_bypassed_while_the_encoder_trains(demo_bilm):
    bilm = CompressedElmoBiLm(*demo_bilm, requires_grad=True, runtime=RuntimeOptions(stateful=False, char_cache=100))
    cache = bilm._token_embedder.char_cache
    output = bilm(batch_to_ids(_sentences(4, seed=8)))
    output["activations"][0].sum().backward()
    assert len(cache) == 0 and bilm._token_embedder._projection.weight.grad is not None
    _run(bilm, _sentences(4, seed=8))  # evaluation: no gradients, the cache is used
    assert len(cache) > 0


def test_used_with_gradients_on_when_the_encoder_is_frozen(demo_bilm):
    bilm = _bilm(demo_bilm, char_cache=100)
    bilm(batch_to_ids(_sentences(4, seed=9)))
    assert len(bilm._token_embedder.char_cache) > 0


def test_emptied_when_the_weights_change(demo_bilm):
    cached, plain = _bilm(demo_bilm, char_cache=10_000), _bilm(demo_bilm)
    cache = cached._token_embedder.char_cache
    sentences = _sentences(32, seed=10)
    _run(cached, sentences)
    with torch.no_grad():
        for bilm in (cached, plain):
            bilm._token_embedder._projection.bias.add_(0.5)  # in place, as an optimizer step
    misses = cache.misses
    _assert_same_outputs(_run(cached, sentences), _run(plain, sentences))
    assert cache.misses == 2 * misses  # every token encoded again
    cached.load_state_dict(_bilm(demo_bilm).state_dict())  # back to the file's weights
    _assert_same_outputs(_run(cached, sentences), _run(_bilm(demo_bilm), sentences))
    assert cache.misses == 3 * misses


@pytest.mark.parametrize("value", [-1, 1.5, True, "100"])
def test_bad_sizes(value):
    with pytest.raises(ElmoCompressError, match="char_cache must be a number of tokens >= 0"):
        RuntimeOptions(char_cache=value)


def _is_quantized(module: torch.nn.Module) -> bool:
    return any("quantized" in type(child).__module__ for child in module.modules())


def test_int8_with_the_cache_is_an_int8_lstm_on_the_float_uncached_encoder(demo_bilm):
    """
    With `int8`, the cache keeps the character encoder float (an int8 encoder's vector would depend on
    its batch) and quantizes the LSTM. The reference: a float biLM whose LSTM alone is quantized, no
    cache. The token vectors agree to float32 rounding (the cache encodes in other products); the int8
    LSTM quantizes those inputs, and a rounding difference could change an int8 activation only for a
    value within about 1e-6 of a rounding boundary, which these few sentences do not have.
    """
    cached = _bilm(demo_bilm, int8=True, char_cache=100)
    reference = _bilm(demo_bilm)
    quantize_elmo_lstm(reference._elmo_lstm)
    assert not _is_quantized(cached._token_embedder) and _is_quantized(cached._elmo_lstm)
    assert _is_quantized(_bilm(demo_bilm, int8=True)._token_embedder)  # without the cache: all int8
    for seed in range(2):
        sentences = _sentences(6, seed=seed)
        _assert_same_outputs(_run(cached, sentences), _run(reference, sentences))
    assert cached._token_embedder.char_cache.hits > 0
    # the LSTM did run in int8: its layers differ from the float biLM's by far more than rounding
    float_top = _run(_bilm(demo_bilm), sentences)["activations"][-1]
    assert (_run(cached, sentences)["activations"][-1] - float_top).abs().max() > 1e-3


def test_registered_components_take_the_cache(demo_bilm):
    embedder = TokenEmbedder.from_params(
        Params({"type": "compressed_elmo", "options_file": demo_bilm[0], "weight_file": demo_bilm[1],
                "compression": {"method": "svd", "target": "recurrent", "rank": 16}, "char_cache": 50, "dropout": 0.0})
    )
    assert embedder._elmo._elmo_lstm._token_embedder.char_cache.size == 50
    elmo = CompressedElmo(*demo_bilm, compression={"method": "svd", "target": "both", "rank": 8}, char_cache=50)
    assert elmo._elmo_lstm._token_embedder.char_cache.size == 50
    plain = CompressedElmo(*demo_bilm, compression={"method": "svd", "target": "both", "rank": 8})
    assert plain._elmo_lstm._token_embedder.char_cache is None
