"""One trainer for every surrogate (`pdesuite train`)."""

from pdesuite.training.trainer import TrainingError, train

__all__ = ["TrainingError", "train"]
