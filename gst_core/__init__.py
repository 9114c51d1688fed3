"""gst's minimal core: component interfaces, registries, plugin discovery, pipelines.

Three lines to a component::

    import gst_core
    gen = gst_core.generators.build("dcgan", latent_dim=64)
    parts = gst_core.build_from_toml("run.toml")
"""

from gst_core.config import build, build_components, build_from_toml, load_toml
from gst_core.errors import (
    ComponentArgumentError,
    ComponentTypeError,
    DuplicateComponentError,
    GstError,
    PluginLoadError,
    SpecError,
    UnknownComponentError,
)
from gst_core.interfaces import (
    AdversarialLoss,
    Discriminator,
    DiscriminatorPenalty,
    FeatureExtractor,
    ImageGenerator,
    Loss,
)
from gst_core.kinds import KINDS, discriminators, feature_extractors, generators, losses, registry
from gst_core.registry import Entry, Registry

__version__ = "0.1.0"

__all__ = [
    "KINDS",
    "AdversarialLoss",
    "ComponentArgumentError",
    "ComponentTypeError",
    "Discriminator",
    "DiscriminatorPenalty",
    "DuplicateComponentError",
    "Entry",
    "FeatureExtractor",
    "GstError",
    "ImageGenerator",
    "Loss",
    "PluginLoadError",
    "Registry",
    "SpecError",
    "UnknownComponentError",
    "build",
    "build_components",
    "build_from_toml",
    "discriminators",
    "feature_extractors",
    "generators",
    "load_toml",
    "losses",
    "registry",
]
