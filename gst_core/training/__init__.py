"""Training: one loop (:class:`Trainer`) for every training method (an ``Objective``)."""

from gst_core.errors import NonFiniteLossError, TrainingSetupError
from gst_core.interfaces import DiscriminatorPenalty, Objective, Preview, StepContext
from gst_core.training.build import build_dataset, build_objective, build_trainer
from gst_core.training.callbacks import (
    Callback,
    ImageGridWriter,
    MetricsLogger,
    ProgressBar,
    TensorBoardLogger,
)
from gst_core.training.config import TrainConfig
from gst_core.training.metric_callback import MetricCallback
from gst_core.training.trainer import Trainer

__all__ = [
    "Callback",
    "DiscriminatorPenalty",
    "ImageGridWriter",
    "MetricCallback",
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
    "build_dataset",
    "build_objective",
    "build_trainer",
]
