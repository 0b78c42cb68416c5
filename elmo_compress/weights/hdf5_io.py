"""
Plain hdf5 reading and writing: every dataset by its path, checked on the way in and out (numeric,
finite), deterministic bytes, built in memory and written atomically.
"""

import io
import os
from typing import Any, Dict, Mapping, Tuple

import h5py
import numpy

from elmo_compress.errors import ElmoWeightsError, first_line
from elmo_compress.outputs import atomic_write_bytes

Datasets = Dict[str, numpy.ndarray]
Attributes = Dict[str, Dict[str, Any]]  # object path ("/" for the root) -> its attributes


def check_array(name: str, array: Any, source: str) -> numpy.ndarray:
    """A numeric array without NaN or infinity, or an `ElmoWeightsError` naming the dataset."""
    if not isinstance(array, numpy.ndarray) or array.dtype.kind not in "fiub":
        kind = getattr(array, "dtype", type(array).__name__)
        raise ElmoWeightsError(f"{source}: dataset {name} holds {kind}, not numbers")
    if array.dtype.kind == "f" and not numpy.isfinite(array).all():
        raise ElmoWeightsError(f"{source}: dataset {name} contains NaN or infinite values")
    return array


def read_hdf5(path: str) -> Tuple[Datasets, Attributes]:
    """Read every dataset and every attribute of an hdf5 file into memory; datasets must be finite numbers."""
    if not os.path.isfile(path):
        raise ElmoWeightsError(f"weights file not found: {path}")
    datasets: Datasets = {}
    attributes: Attributes = {}

    def visit(name: str, item: Any) -> None:
        if isinstance(item, h5py.Dataset):
            datasets[name] = check_array(name, item[()], f"weights file {path}")
        if item.attrs:
            attributes[name] = dict(item.attrs)

    try:
        with h5py.File(path, "r") as hdf5_file:
            if hdf5_file.attrs:
                attributes["/"] = dict(hdf5_file.attrs)
            hdf5_file.visititems(visit)
    except (OSError, KeyError, RuntimeError, ValueError, TypeError) as error:
        message = first_line(error)
        raise ElmoWeightsError(f"weights file {path} is not a readable hdf5 file ({message})") from None
    return datasets, attributes


def hdf5_bytes(datasets: Mapping[str, numpy.ndarray], attributes: Attributes) -> bytes:
    """The bytes of an hdf5 file holding `datasets` and `attributes`. Same input, same bytes."""
    for name in datasets:
        check_array(name, datasets[name], "refusing to write weights")
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as hdf5_file:
        for name in sorted(datasets):
            hdf5_file.create_dataset(name, data=datasets[name], track_times=False)
        for name in sorted(attributes):
            target = hdf5_file[name] if name in hdf5_file else hdf5_file.create_group(name)
            for key in sorted(attributes[name]):
                target.attrs[key] = attributes[name][key]
    return buffer.getvalue()


def write_hdf5(path: str, datasets: Mapping[str, numpy.ndarray], attributes: Attributes) -> None:
    """Write datasets and attributes to `path` atomically. Same input, same bytes."""
    atomic_write_bytes(path, hdf5_bytes(datasets, attributes))
