"""Training: one loop (:class:`Trainer`) for every adversarial method (:class:`Objective`)."""

from gst_core.interfaces import DiscriminatorPenalty
from gst_core.training.callbacks import (
    Callback,
    ImageGridWriter,
    MetricsLogger,
    ProgressBar,
    TensorBoardLogger,
)
from gst_core.training.config import TrainConfig
from gst_core.training.errors import NonFiniteLossError, TrainingSetupError
from gst_core.training.gan import GANObjective
from gst_core.training.objective import Objective, Preview, StepContext
from gst_core.training.trainer import Trainer

__all__ = [
    "Callback",
    "DiscriminatorPenalty",
    "GANObjective",
    "ImageGridWriter",
    "MetricsLogger",
    "NonFiniteLossError",
    "Objective",
    "Preview",
    "ProgressBar",
    "StepContext",
    "TensorBoardLogger",
    "TrainConfig",
    "Trainer",
    "TrainingSetupError",
]
