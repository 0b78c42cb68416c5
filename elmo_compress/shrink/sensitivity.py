"""
Measured sensitivity: how much the biLM's outputs move per unit of predicted error in each matrix, so
that the allocation adds up errors of different matrices in the units that matter downstream.

The predicted error of matrix k (its expected output error, `shrink.allocation.output_spectra`) says
how far its gate pre-activations move; how far that moves the ELMo layers depends on where the matrix
sits (a layer-0 error travels through layer 1, a recurrent one through time, a saturated gate hides
it). So each matrix is compressed alone, at a probe rank, and the biLM is run on calibration text
against the uncompressed one: w_k = (distortion with k compressed) / (predicted error of k at that
rank). Distortion: per LSTM layer, the mean squared difference of its outputs divided by the mean
square of the uncompressed outputs, summed over layers. Needs no softmax and no labels.
"""

from typing import Dict, List, Mapping, Sequence

import torch
from allennlp.modules.elmo import batch_to_ids

from elmo_compress.constants import MatrixKey
from elmo_compress.factorize import compress_matrix, dense_matrix
from elmo_compress.factorize.settings import MethodSettings
from elmo_compress.modules import CompressedElmoBiLm
from elmo_compress.modules.runtime_options import RuntimeOptions
from elmo_compress.weights import ElmoWeights

_STATELESS = RuntimeOptions(stateful=False)


def layer_outputs(weights: ElmoWeights, batches: Sequence[List[List[str]]]) -> List[List[torch.Tensor]]:
    """Per batch, the LSTM layers' outputs (masked rows only), each (tokens, 2 * projection)."""
    bilm = CompressedElmoBiLm(weights=weights, runtime=_STATELESS).eval()
    outputs = []
    with torch.no_grad():
        for batch in batches:
            result = bilm(batch_to_ids(batch))
            mask = result["mask"].bool()
            outputs.append([activation[mask].double() for activation in result["activations"][1:]])
    return outputs


def distortion(reference: List[List[torch.Tensor]], other: List[List[torch.Tensor]]) -> float:
    """Sum over layers of mean ||other - reference||^2 / mean ||reference||^2."""
    layers = len(reference[0])
    total = 0.0
    for layer in range(layers):
        error = sum(float(((o[layer] - r[layer]) ** 2).sum()) for r, o in zip(reference, other))
        energy = sum(float((r[layer] ** 2).sum()) for r in reference)
        total += error / energy
    return total


def measured_error_weights(
    weights: ElmoWeights,
    matrices: Mapping[MatrixKey, torch.Tensor],
    spectra: Mapping[MatrixKey, torch.Tensor],
    ranks: Mapping[MatrixKey, int],
    method: str,
    second_moments: Mapping[MatrixKey, torch.Tensor],
    sentences: Sequence[List[str]],
    batch_size: int = 64,
) -> Dict[MatrixKey, float]:
    """
    w_k = distortion of the biLM with only matrix k compressed (by `method` at `ranks[k]`) divided by
    k's predicted error at that rank (the sum of its `spectra` values past the rank, squared).
    """
    ordered = sorted(sentences, key=len)
    batches = [ordered[start : start + batch_size] for start in range(0, len(ordered), batch_size)]
    reference = layer_outputs(weights, batches)
    dense = {key: dense_matrix(matrix) for key, matrix in matrices.items()}
    result: Dict[MatrixKey, float] = {}
    for key, matrix in sorted(matrices.items()):
        settings = MethodSettings(statistics=second_moments[key])
        probe = dict(dense)
        probe[key] = compress_matrix(matrix, method, ranks[key], settings=settings)
        moved = distortion(reference, layer_outputs(weights.compressed(probe, {}), batches))
        predicted = float((spectra[key][ranks[key] :] ** 2).sum())
        result[key] = max(moved, 1e-12) / max(predicted, 1e-300)
    return result
