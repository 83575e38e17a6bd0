"""Network architectures (no training objectives here; those live in `pdesuite.surrogates`)."""

from pdesuite.nn.gaussians import GaussianEmbedding
from pdesuite.nn.mlp import MLP, FourierFeatures, PeriodicEmbedding

__all__ = ["MLP", "FourierFeatures", "GaussianEmbedding", "PeriodicEmbedding"]
