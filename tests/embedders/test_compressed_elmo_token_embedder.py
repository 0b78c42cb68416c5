from pathlib import Path

import pytest
import torch
from allennlp.common import Params
from allennlp.common.checks import ConfigurationError
from allennlp.modules.elmo import batch_to_ids
from allennlp.modules.token_embedders import ElmoTokenEmbedder, TokenEmbedder

from elmo_compress.embedders import CompressedElmoTokenEmbedder
from elmo_compress.factorize import CompressionSpec
from elmo_compress.modules import LowRankLinear
from elmo_compress.weights import ElmoWeights, compress_weights

SENTENCES = [["Compression", "keeps", "ELMo", "useful", "."], ["Small", "models", "."]]
LSTM = "_elmo._elmo_lstm._elmo_lstm"


def _embed(embedder: torch.nn.Module) -> torch.Tensor:
    embedder.eval()
    with torch.no_grad():
        return embedder(batch_to_ids(SENTENCES))


def _embedder(options_file: str, weight_file: str, **kwargs) -> TokenEmbedder:
    params = {"type": "compressed_elmo", "options_file": options_file, "weight_file": weight_file, "dropout": 0.0}
    return TokenEmbedder.from_params(Params({**params, **kwargs}))


def test_from_params_with_nested_compression_block(random_bilm):
    compression = {"method": "svd", "target": "recurrent", "rank": 4, "layers": {"1": {"rank": 2}}}
    embedder = _embedder(*random_bilm, compression=compression, projection_dim=5)
    assert isinstance(embedder, CompressedElmoTokenEmbedder)
    assert embedder.get_output_dim() == 5
    assert _embed(embedder).shape == (2, 5, 5)
    lstm = embedder._elmo._elmo_lstm._elmo_lstm
    assert lstm.forward_layer_0.state_linearity.rank == 4
    assert lstm.backward_layer_1.state_linearity.rank == 2
    assert isinstance(lstm.forward_layer_0.input_linearity, torch.nn.Linear)


def test_compressed_weights_file_gives_identical_outputs(random_bilm, tmp_path: Path):
    compression = {"method": "semi_nmf", "target": "both", "rank": 3, "seed": 2}
    weights, _ = compress_weights(ElmoWeights.load(*random_bilm), CompressionSpec.from_dict(compression))
    compressed_file = str(tmp_path / "compressed.hdf5")
    weights.save(compressed_file)
    from_block = _embed(_embedder(*random_bilm, compression=compression))
    from_file = _embed(_embedder(random_bilm[0], compressed_file))
    assert torch.equal(from_block, from_file)


def test_plain_model_state_dict_is_factorized_at_load(random_bilm):
    plain = ElmoTokenEmbedder(*random_bilm, dropout=0.0)
    state = plain.state_dict()
    # Change the plain model's LSTM weights, as fine-tuning would, so the test can tell whether the
    # compressed model factorizes the state dict's weights or keeps the ones from the weight file.
    for key in list(state):
        if key.endswith("state_linearity.weight") or key.endswith("input_linearity.weight"):
            state[key] = state[key] * 1.5
    plain.load_state_dict(state)

    full_rank = _embedder(*random_bilm, compression={"method": "svd", "target": "both", "rank": 8})
    result = full_rank.load_state_dict(state)
    assert not result.missing_keys and not result.unexpected_keys
    torch.testing.assert_close(_embed(full_rank), _embed(plain), rtol=0, atol=1e-5)

    low_rank = _embedder(*random_bilm, compression={"method": "svd", "target": "recurrent", "rank": 3})
    low_rank.load_state_dict(state)
    layer = low_rank._elmo._elmo_lstm._elmo_lstm.forward_layer_1.state_linearity
    assert isinstance(layer, LowRankLinear) and layer.rank == 3
    expected = CompressionSpec.from_dict({"method": "svd", "target": "recurrent", "rank": 3})
    from elmo_compress.factorize import compress_matrix

    dense = state[f"{LSTM}.forward_layer_1.state_linearity.weight"]
    torch.testing.assert_close(layer.weight(), compress_matrix(dense, expected.method, 3).to_dense())


def test_neither_compression_nor_compressed_file(random_bilm):
    with pytest.raises(ConfigurationError, match="needs a compression block or a compressed weights file"):
        _embedder(*random_bilm)


def test_compression_of_an_already_compressed_file(random_bilm, tmp_path: Path):
    spec = CompressionSpec.from_dict({"method": "svd", "target": "both", "rank": 2})
    weights, _ = compress_weights(ElmoWeights.load(*random_bilm), spec)
    weights.save(str(tmp_path / "compressed.hdf5"))
    with pytest.raises(ConfigurationError, match="already compressed"):
        _embedder(random_bilm[0], str(tmp_path / "compressed.hdf5"), compression=spec.to_dict())


@pytest.mark.parametrize(
    "compression,message",
    [
        ({"method": "tucker", "target": "both", "rank": 2}, "tucker"),
        ({"method": "svd", "target": "gates", "rank": 2}, "gates"),
        ({"method": "svd", "target": "both", "rank": 0}, "rank"),
        ({"method": "svd", "target": "both", "rank": 99}, "rank"),
    ],
)
def test_bad_compression_blocks(random_bilm, compression, message: str):
    with pytest.raises(ConfigurationError, match=message):
        _embedder(*random_bilm, compression=compression)


def test_missing_weight_file(random_bilm, tmp_path: Path):
    with pytest.raises(ConfigurationError, match="weights file not found"):
        _embedder(
            random_bilm[0],
            str(tmp_path / "missing.hdf5"),
            compression={"method": "svd", "target": "both", "rank": 2},
        )
