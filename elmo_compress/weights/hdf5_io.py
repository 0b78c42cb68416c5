"""
Plain hdf5 reading and writing: every dataset by its path, deterministic bytes, atomic writes.
"""

import os
from typing import Any, Dict, Mapping, Tuple

import h5py
import numpy

from elmo_compress.atomic import atomic_output
from elmo_compress.errors import ElmoWeightsError

Datasets = Dict[str, numpy.ndarray]
Attributes = Dict[str, Dict[str, Any]]  # object path ("/" for the root) -> its attributes


def read_hdf5(path: str) -> Tuple[Datasets, Attributes]:
    """Read every dataset and every attribute of an hdf5 file into memory."""
    if not os.path.isfile(path):
        raise ElmoWeightsError(f"weights file not found: {path}")
    datasets: Datasets = {}
    attributes: Attributes = {}

    def visit(name: str, item: Any) -> None:
        if isinstance(item, h5py.Dataset):
            datasets[name] = item[()]
        if item.attrs:
            attributes[name] = dict(item.attrs)

    try:
        with h5py.File(path, "r") as hdf5_file:
            if hdf5_file.attrs:
                attributes["/"] = dict(hdf5_file.attrs)
            hdf5_file.visititems(visit)
    except (OSError, KeyError, RuntimeError) as error:
        raise ElmoWeightsError(f"weights file {path} is not a readable hdf5 file ({error})") from None
    return datasets, attributes


def write_hdf5(path: str, datasets: Mapping[str, numpy.ndarray], attributes: Attributes) -> None:
    """Write datasets and attributes to `path` atomically. Same input, same bytes."""
    with atomic_output(path) as temporary:
        with h5py.File(temporary, "w") as hdf5_file:
            for name in sorted(datasets):
                hdf5_file.create_dataset(name, data=datasets[name], track_times=False)
            for name in sorted(attributes):
                target = hdf5_file[name] if name in hdf5_file else hdf5_file.create_group(name)
                for key in sorted(attributes[name]):
                    target.attrs[key] = attributes[name][key]
