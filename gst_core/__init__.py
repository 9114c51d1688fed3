"""gst's minimal core: the six kinds' contracts, registries, plugin discovery, pipelines.

Three lines to a component::

    import gst_core
    gen = gst_core.generators.build("dcgan", latent_dim=64)
    parts = gst_core.build_from_toml("run.toml")
    nets = gst_core.load_pretrained("models/my-model")  # a `gst publish` folder
"""

from gst_core.config import build, build_components, build_from_toml, load_toml
from gst_core.errors import (
    ComponentArgumentError,
    ComponentTypeError,
    DataError,
    DuplicateComponentError,
    GstError,
    NonFiniteLossError,
    PluginLoadError,
    SpecError,
    TrainingSetupError,
    UnknownComponentError,
)
from gst_core.interfaces import (
    AdversarialLoss,
    Discriminator,
    DiscriminatorPenalty,
    FeatureExtractor,
    FeatureLoss,
    ImageDataset,
    ImageGenerator,
    Loss,
    Objective,
    Preview,
    StepContext,
)
from gst_core.kinds import (
    KINDS,
    datasets,
    discriminators,
    feature_extractors,
    generators,
    losses,
    objectives,
    registry,
)
from gst_core.registry import Entry, Registry

__version__ = "0.2.0"


def __getattr__(name: str):  # noqa: ANN202 - PEP 562
    # Loaded on first use: `gst plugins list` imports this package and must stay light.
    if name == "load_pretrained":
        from gst_core.apply.model_folder import load_pretrained

        return load_pretrained
    raise AttributeError(f"module 'gst_core' has no attribute {name!r}")


__all__ = [
    "KINDS",
    "AdversarialLoss",
    "ComponentArgumentError",
    "ComponentTypeError",
    "DataError",
    "Discriminator",
    "DiscriminatorPenalty",
    "DuplicateComponentError",
    "Entry",
    "FeatureExtractor",
    "FeatureLoss",
    "GstError",
    "ImageDataset",
    "ImageGenerator",
    "Loss",
    "NonFiniteLossError",
    "Objective",
    "PluginLoadError",
    "Preview",
    "Registry",
    "SpecError",
    "StepContext",
    "TrainingSetupError",
    "UnknownComponentError",
    "build",
    "build_components",
    "build_from_toml",
    "datasets",
    "discriminators",
    "feature_extractors",
    "generators",
    "load_pretrained",
    "load_toml",
    "losses",
    "objectives",
    "registry",
]
