"""
Building the biLM of the registered components from their config arguments; bad input becomes one
`ConfigurationError` line. Imported when a component is built, not when it is registered (see
`elmo_compress/registration.py`).
"""

from typing import Any, List, Mapping, Optional

from allennlp.common import Params
from allennlp.common.checks import ConfigurationError

from elmo_compress.errors import ElmoCompressError
from elmo_compress.factorize import CompressionSpec
from elmo_compress.modules import CompressedElmoBiLm, RuntimeOptions
from elmo_compress.weights import ElmoOptions, ElmoWeights


def _plain(value: Any) -> Any:
    """Nested allennlp `Params` -> plain dicts, so a compression block can be parsed and stored."""
    if isinstance(value, Params):
        return value.as_dict(quiet=True)
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    return value


def build_compressed_bilm(
    options_file: Optional[str],
    weight_file: Optional[str],
    compression: Optional[Mapping[str, Any]],
    requires_grad: bool = False,
    vocab_to_cache: Optional[List[str]] = None,
    runtime: Optional[Mapping[str, Any]] = None,
    options: Optional[Mapping[str, Any]] = None,
    layout: Optional[Mapping[str, Any]] = None,
) -> CompressedElmoBiLm:
    """
    The biLM of a compressed ELMo, from one of:

    - `weight_file`, a compressed weights file (`compress-elmo compress`);
    - `weight_file`, an official one, and a `compression` block;
    - no `weight_file`: the options (`options_file` or inline `options`) and the `layout` of a
      compressed biLM (`ElmoWeights.layout`); its numbers come from the model's state dict. This is
      what `compress-elmo archive` writes, so archives load without the original ELMo files.

    Bad input becomes one `ConfigurationError` line.
    """
    try:
        bilm = _build(
            options_file, weight_file, compression, requires_grad, vocab_to_cache, RuntimeOptions(**(runtime or {})), options, layout
        )
    except ElmoCompressError as error:
        raise ConfigurationError(str(error)) from None
    if not bilm.is_compressed:
        raise ConfigurationError(
            f"compressed ELMo needs a compression block or a compressed weights file, but {weight_file} "
            "is an uncompressed ELMo file and no compression was given (use elmo_token_embedder for plain ELMo)"
        )
    return bilm


def _build(
    options_file: Optional[str],
    weight_file: Optional[str],
    compression: Optional[Mapping[str, Any]],
    requires_grad: bool,
    vocab_to_cache: Optional[List[str]],
    runtime: RuntimeOptions,
    options: Optional[Mapping[str, Any]],
    layout: Optional[Mapping[str, Any]],
) -> CompressedElmoBiLm:
    if (options_file is None) == (options is None):
        raise ElmoCompressError("compressed ELMo needs exactly one of options_file and options")
    spec = CompressionSpec.from_dict(_plain(compression)) if compression is not None else None
    arguments = dict(requires_grad=requires_grad, vocab_to_cache=vocab_to_cache, compression=spec, runtime=runtime)
    if weight_file is not None:
        if layout is not None:
            raise ElmoCompressError("give a weight_file or a layout, not both")
        if options is not None:
            return CompressedElmoBiLm(weights=ElmoWeights.from_file(_options(None, options), weight_file), **arguments)
        return CompressedElmoBiLm(options_file, weight_file, **arguments)
    if layout is None:
        raise ElmoCompressError("compressed ELMo needs a weight_file, or a layout whose numbers the model's state dict holds")
    if spec is not None:
        raise ElmoCompressError("a layout describes an already compressed biLM; leave out the compression block")
    weights = ElmoWeights.placeholder(_options(options_file, options), _plain(layout))
    return CompressedElmoBiLm(weights=weights, **arguments)


def _options(options_file: Optional[str], options: Optional[Mapping[str, Any]]) -> ElmoOptions:
    if options is not None:
        return ElmoOptions.from_dict(_plain(options), source="(inline options)")
    return ElmoOptions.from_file(options_file)
