"""FID and KID: exact float64 maths, streaming accumulators, pluggable feature networks.

::

    from gst_core.metrics import frechet_distance, kernel_distance

    fid = frechet_distance(real_features, fake_features)          # (N, D) torch or numpy
    kid_mean, kid_std = kernel_distance(real_features, fake_features, subsets=100)

Streaming: :class:`FIDAccumulator` / :class:`KIDAccumulator` (``update`` per
batch, ``compute``, ``merge``, ``state_dict``, ``sync`` across processes).
Features: :func:`resolve_extractor`, :func:`folder_features`,
:func:`generator_features`. Command line: ``gst eval fid|kid REAL FAKE``.
"""

from gst_core.metrics.errors import MetricError
from gst_core.metrics.extract import (
    FeatureSet,
    describe_extractor,
    folder_features,
    generator_features,
    images_features,
    pooled_features,
    resolve_extractor,
)
from gst_core.metrics.frechet import (
    FeatureStats,
    FIDAccumulator,
    frechet_distance,
    frechet_distance_from_stats,
    trace_sqrt_product,
)
from gst_core.metrics.kernel import (
    KIDAccumulator,
    SmallSampleWarning,
    kernel_distance,
    polynomial_mmd,
)

__all__ = [
    "FIDAccumulator",
    "FeatureSet",
    "FeatureStats",
    "KIDAccumulator",
    "MetricError",
    "SmallSampleWarning",
    "describe_extractor",
    "folder_features",
    "frechet_distance",
    "frechet_distance_from_stats",
    "generator_features",
    "images_features",
    "kernel_distance",
    "polynomial_mmd",
    "pooled_features",
    "resolve_extractor",
    "trace_sqrt_product",
]
