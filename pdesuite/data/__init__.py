"""Reference dataset files (HDF5, format version 1; see docs/dataset-format.md).

`DatasetWriter` writes atomically (temporary name, rename on success), resumes an interrupted
generation and stores per-field statistics in ``/stats``; `open_dataset` reads arrays;
`validate_dataset` checks the layout (`pdesuite inspect`); `field_statistics` returns the statistics.
Torch datasets (`pdesuite.data.torch_dataset`, imported on first use so that this package does not
load torch): `TrajectoryWindows` serves windows of trajectories, `FieldDataset` whole samples.
"""

from pdesuite.data.format import FORMAT, FORMAT_VERSION, SPLITS
from pdesuite.data.reader import DatasetFile, open_dataset
from pdesuite.data.statistics import FieldStatistics, field_statistics
from pdesuite.data.validate import validate_dataset
from pdesuite.data.writer import DatasetWriter

#: Names served lazily from pdesuite.data.torch_dataset (which imports torch).
TORCH_NAMES = ("FieldDataset", "TrajectoryWindows")

__all__ = ["FORMAT", "FORMAT_VERSION", "SPLITS", "DatasetFile", "DatasetWriter", "FieldDataset",
           "FieldStatistics", "TrajectoryWindows", "field_statistics", "open_dataset", "validate_dataset"]


def __getattr__(name: str):
    if name in TORCH_NAMES:
        from pdesuite.data import torch_dataset

        return getattr(torch_dataset, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
