"""Network architectures (no training objectives here; those live in `pdesuite.surrogates`)."""

from pdesuite.nn.gaussians import GaussianEmbedding
from pdesuite.nn.mlp import MLP, FourierFeatures, PeriodicEmbedding
from pdesuite.nn.unet import UNet, UNet1d, UNet2d

__all__ = ["MLP", "FourierFeatures", "GaussianEmbedding", "PeriodicEmbedding", "UNet", "UNet1d", "UNet2d"]
