"""Reference dataset files (HDF5, format version 1; see docs/dataset-format.md).

`DatasetWriter` writes atomically (temporary name, rename on success) and resumes an interrupted
generation; `open_dataset` reads arrays; `validate_dataset` checks the layout (`pdesuite inspect`);
`pdesuite.data.torch.FieldDataset` serves samples to torch.
"""

from pdesuite.data.format import FORMAT, FORMAT_VERSION, SPLITS
from pdesuite.data.reader import DatasetFile, open_dataset
from pdesuite.data.validate import validate_dataset
from pdesuite.data.writer import DatasetWriter

__all__ = ["FORMAT", "FORMAT_VERSION", "SPLITS", "DatasetFile", "DatasetWriter", "open_dataset",
           "validate_dataset"]
