"""Constants of dataset format v1 (the contract in docs/dataset-format.md)."""

FORMAT = "pdesuite-dataset"
FORMAT_VERSION = 1
SPLITS = ("train", "valid", "test")
#: Root attributes every file carries.
REQUIRED_ATTRS = ("format", "format_version", "dataset", "problem", "solver", "profile", "seed",
                  "pdesuite_version", "created", "params", "fields")
#: gzip level: a good ratio at little cost for smooth float fields.
COMPRESSION = {"compression": "gzip", "compression_opts": 4, "shuffle": True}
