"""Calibration statistics: what the hooks see, the cache, and refusing statistics of other weights."""

from pathlib import Path

import pytest
import torch

from elmo_compress.calibration.collect import calibration_sentences, compute_statistics, load_or_compute_statistics
from elmo_compress.calibration.statistics import (
    InputStatistics,
    StatisticsError,
    load_statistics_for,
    weights_lstm_sha256,
)
from elmo_compress.errors import ElmoCompressError
from elmo_compress.weights import ElmoWeights, compress_weights
from elmo_compress.weights.synthetic import elmo_options, random_elmo_weights
from elmo_compress.factorize import CompressionSpec

SENTENCES = [["the", "cat", "sat"], ["a", "dog"], ["it", "rains", "today", "again"], ["yes"]]


def small_weights(seed: int = 0) -> ElmoWeights:
    return random_elmo_weights(elmo_options(8, 24, filters=((1, 4), (2, 8)), char_embedding_dim=4), seed=seed)


def shapes_of(weights: ElmoWeights):
    return {
        (l, d, t): tuple(weights.matrix(l, d, t).shape) for l, d in weights.cells() for t in ("input", "recurrent")
    }


def test_statistics_are_moments_of_every_input_row() -> None:
    weights = small_weights()
    statistics = compute_statistics(weights, SENTENCES, batch_size=2, show_progress=False)
    tokens = sum(len(sentence) + 2 for sentence in SENTENCES)  # <S> and </S>
    assert set(statistics.counts.values()) == {tokens}
    for key, moment in statistics.second_moments.items():
        assert moment.dtype == torch.float64 and moment.shape == (8, 8)
        assert torch.allclose(moment, moment.T)
        mean = statistics.means[key]
        assert float(torch.linalg.eigvalsh(moment - torch.outer(mean, mean)).min()) > -1e-9  # a covariance
    # layer 0's two directions read the same token representations (summed in opposite orders)
    assert torch.allclose(
        statistics.second_moments[(0, 0, "input")], statistics.second_moments[(0, 1, "input")], rtol=1e-12, atol=0
    )
    # the batch size changes nothing but float32 round-off of the activations
    other = compute_statistics(weights, SENTENCES, batch_size=4, show_progress=False)
    for key, moment in statistics.second_moments.items():
        assert torch.allclose(moment, other.second_moments[key], rtol=1e-5, atol=1e-6)


def test_cache_is_reused_and_keyed_by_weights_and_text(tmp_path: Path) -> None:
    weights = small_weights()
    first = load_or_compute_statistics(weights, SENTENCES, cache_dir=str(tmp_path), show_progress=False)
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and files[0].name == f"{first.key}.npz"
    stamp = files[0].stat().st_mtime_ns
    again = load_or_compute_statistics(weights, SENTENCES, cache_dir=str(tmp_path), show_progress=False)
    assert files[0].stat().st_mtime_ns == stamp and again.key == first.key
    for key, moment in first.second_moments.items():
        assert torch.equal(moment, again.second_moments[key])
    load_or_compute_statistics(weights, SENTENCES[:2], cache_dir=str(tmp_path), show_progress=False)
    load_or_compute_statistics(small_weights(seed=1), SENTENCES, cache_dir=str(tmp_path), show_progress=False)
    assert len(list(tmp_path.iterdir())) == 3


def test_statistics_of_other_weights_or_shapes_are_refused(tmp_path: Path) -> None:
    weights = small_weights()
    path = str(tmp_path / "statistics.npz")
    compute_statistics(weights, SENTENCES, show_progress=False).save(path)
    assert load_statistics_for(path, weights_lstm_sha256(weights), shapes_of(weights)).counts
    other = small_weights(seed=1)
    with pytest.raises(StatisticsError, match=r"statistics file .* were computed from other weights"):
        load_statistics_for(path, weights_lstm_sha256(other), shapes_of(other))
    wider = random_elmo_weights(elmo_options(6, 24, filters=((1, 4), (2, 8)), char_embedding_dim=4))
    with pytest.raises(
        StatisticsError, match=r"do not fit this biLM: layer 0 forward input needs \(6, 6\), the file has \(8, 8\)"
    ):
        load_statistics_for(path, weights_lstm_sha256(wider), shapes_of(wider))
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(StatisticsError, match="is not a calibration statistics file"):
        InputStatistics.load(str(tmp_path / "junk.npz"))
    spec = CompressionSpec.from_dict({"method": "asvd", "rank": 2, "statistics": path})
    with pytest.raises(StatisticsError, match="other weights"):
        compress_weights(other, spec)
    compressed, _ = compress_weights(weights, spec)
    assert compressed.matrix(0, 0, "input").method == "asvd"


def test_calibration_sentences_and_empty_text() -> None:
    text = [[str(index)] for index in range(10)]
    assert calibration_sentences(text, 5) == [["0"], ["2"], ["4"], ["6"], ["8"]]
    assert calibration_sentences(text, 50) == text
    with pytest.raises(ElmoCompressError, match="no usable sentence"):
        calibration_sentences([[], []], 3)
    with pytest.raises(ElmoCompressError, match="no usable sentence"):
        compute_statistics(small_weights(), [[]], show_progress=False)


def test_in_place_surgery_reads_the_statistics_file_of_its_weights(tmp_path: Path) -> None:
    from elmo_compress.modules import CompressedElmoBiLm, compress_elmo_bilm
    from elmo_compress.modules.forms import as_linear_form

    weights = small_weights()
    path = str(tmp_path / "statistics.npz")
    compute_statistics(weights, SENTENCES, show_progress=False).save(path)
    spec = CompressionSpec.from_dict({"method": "asvd", "rank": 3, "statistics": path})
    expected, _ = compress_weights(weights, spec)
    bilm = CompressedElmoBiLm(weights=weights)
    compress_elmo_bilm(bilm, spec)
    for layer, direction in weights.cells():
        cell = getattr(bilm._elmo_lstm, f"{('forward', 'backward')[direction]}_layer_{layer}")
        got = as_linear_form(cell.input_linearity).to_matrix()
        assert torch.equal(got.left, expected.matrix(layer, direction, "input").left)
    other = CompressedElmoBiLm(weights=small_weights(seed=1))
    with pytest.raises(StatisticsError, match="other weights"):
        compress_elmo_bilm(other, spec)
