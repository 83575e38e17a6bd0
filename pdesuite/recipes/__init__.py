"""Named dataset recipes: how each reference dataset is generated.

A recipe is one file here plus its profiles in ``datasets/NAME.toml`` (``small`` for a CPU,
``paper`` for the published scale). `pdesuite.recipes.generate.generate` runs one.
"""
