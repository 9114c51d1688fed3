"""The six kinds of component and their registries.

Datasets are checked against ``torch.utils.data.Dataset`` (any torch dataset
will do; :class:`~gst_core.interfaces.ImageDataset` documents what gst's
objectives read from one).
"""

from __future__ import annotations

import difflib

from torch.utils.data import Dataset

from gst_core.errors import UnknownComponentError
from gst_core.interfaces import Discriminator, FeatureExtractor, ImageGenerator, Loss, Objective
from gst_core.registry import Registry

__all__ = [
    "KINDS",
    "datasets",
    "discriminators",
    "feature_extractors",
    "generators",
    "losses",
    "objectives",
    "registry",
]

generators: Registry[ImageGenerator] = Registry("generator", ImageGenerator, "gst_core.generators")
discriminators: Registry[Discriminator] = Registry(
    "discriminator", Discriminator, "gst_core.discriminators"
)
losses: Registry[Loss] = Registry("loss", Loss, "gst_core.losses")
feature_extractors: Registry[FeatureExtractor] = Registry(
    "feature_extractor", FeatureExtractor, "gst_core.feature_extractors"
)

objectives: Registry[Objective] = Registry("objective", Objective, "gst_core.objectives")
datasets: Registry[Dataset] = Registry("dataset", Dataset, "gst_core.datasets")

KINDS: dict[str, Registry] = {
    r.kind: r
    for r in (generators, discriminators, losses, feature_extractors, objectives, datasets)
}


def registry(kind: str) -> Registry:
    """The registry of ``kind`` (``"generator"``, ``"losses"``, ...; singular or plural)."""
    key = kind.lower().replace("-", "_")
    if key not in KINDS and key.endswith("es") and key[:-2] in KINDS:
        key = key[:-2]
    if key not in KINDS and key.endswith("s") and key[:-1] in KINDS:
        key = key[:-1]
    if key in KINDS:
        return KINDS[key]
    close = difflib.get_close_matches(key, list(KINDS), n=2, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise UnknownComponentError(
        f"unknown component kind {kind!r}{hint} (kinds: {', '.join(KINDS)})"
    )
