"""Model folders: trained networks as ``model.safetensors`` + ``config.json`` + ``README.md``.

A run folder's ``checkpoints/last.pt`` is the whole training state in a
pickle-based torch zip: right for resuming, wrong for sharing. A model folder
holds inference weights only, in safetensors (a JSON header and raw tensor
bytes: loading it cannot run code), and a ``config.json`` that says how to
rebuild each network from the registry and which distribution provides it,
so a missing plugin is named rather than guessed at. ``config.json`` records
the SHA-256 of the weights file: bytes changed after publishing are refused.

Three lines::

    import gst_core
    nets = gst_core.load_pretrained("models/pix2pix-shapes")   # or "user/repo" on the Hub
    generator = nets["generator"]
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gst_core.atomic_file import atomic_write
from gst_core.errors import GstError

__all__ = [
    "MODEL_FORMAT",
    "ModelFolderError",
    "PretrainedNetworks",
    "is_hub_name",
    "is_model_folder",
    "load_pretrained",
    "read_model_config",
    "write_model_folder",
]

MODEL_FORMAT = "gst.model/1"
CONFIG_FILE, WEIGHTS_FILE, CARD_FILE = "config.json", "model.safetensors", "README.md"
_HUB_REPO = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


class ModelFolderError(GstError, ValueError):
    """A model folder is missing, incomplete, tampered with, or needs another gst or plugin."""


class PretrainedNetworks(dict):
    """Network name → built network in eval mode; ``.config`` is the folder's config.json."""

    def __init__(self, networks: Mapping[str, nn.Module], config: Mapping[str, Any], where: str):
        super().__init__(networks)
        self.config = dict(config)
        self.where = where


def is_model_folder(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is a folder holding a gst ``config.json`` (a published model)."""
    config = Path(path).expanduser() / CONFIG_FILE
    if not config.is_file() or not (config.parent / WEIGHTS_FILE).is_file():
        return False
    try:
        return str(json.loads(config.read_text()).get("format", "")).startswith("gst.model/")
    except (ValueError, OSError, AttributeError):
        return True  # a damaged config of a model folder: read_model_config says what is wrong


def is_hub_name(source: object) -> bool:
    """True for ``"user/repo"`` that is not a local path: a Hugging Face Hub model name."""
    return isinstance(source, str) and bool(_HUB_REPO.match(source)) and not Path(source).exists()


def sha256_of(path: Path) -> str:
    """The file's SHA-256, read in blocks by the standard library."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def write_model_folder(
    networks: Mapping[str, nn.Module],
    specs: Mapping[str, Mapping[str, Any]],
    meta: Mapping[str, Any],
    out: str | os.PathLike[str],
    *,
    card: str | None = None,
) -> Path:
    """Write ``networks`` (rebuilt from ``specs``: ``{"kind", "name", **kwargs}`` each) into
    the folder ``out``: ``model.safetensors`` and ``config.json`` (``meta`` plus the format,
    the specs and each component's distribution), and ``card`` as ``README.md`` if given.

    The folder may exist but must not hold a model already. Public so that importers of
    other programs' checkpoints write the same format."""
    from safetensors.torch import save_file

    from gst_core import __version__
    from gst_core.kinds import registry

    out = Path(out).expanduser()
    if (out / CONFIG_FILE).exists() or (out / WEIGHTS_FILE).exists():
        raise ModelFolderError(f"{str(out)!r} already holds a model; choose a new folder")
    if set(networks) != set(specs):
        raise ModelFolderError(
            f"networks {sorted(networks)} and specs {sorted(specs)} name different networks"
        )
    tensors: dict[str, torch.Tensor] = {}
    records: dict[str, Any] = {}
    for name, network in networks.items():
        if "." in name:
            raise ModelFolderError(f"network name {name!r} must not contain a dot")
        spec = dict(specs[name])
        entry = registry(spec["kind"]).entry(spec["name"])
        for key, value in network.state_dict().items():
            # A copy of its own: safetensors refuses tensors that share storage.
            tensors[f"{name}.{key}"] = value.detach().to("cpu").contiguous().clone()
        records[name] = {
            "spec": spec,
            "distribution": entry.distribution,
            "distribution_version": entry.version,
        }
    out.mkdir(parents=True, exist_ok=True)
    weights = out / WEIGHTS_FILE
    tmp = out / f".{WEIGHTS_FILE}.tmp"
    save_file(tensors, str(tmp), metadata={"format": "pt", "gst": MODEL_FORMAT})
    os.replace(tmp, weights)
    config = {
        "format": MODEL_FORMAT,
        "gst_version": __version__,
        **dict(meta),
        "networks": records,
        "weights_sha256": sha256_of(weights),
    }
    with atomic_write(out / CONFIG_FILE) as f:
        f.write((json.dumps(config, indent=2, default=str) + "\n").encode())
    if card is not None:
        with atomic_write(out / CARD_FILE) as f:
            f.write(card.encode())
    return out


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", str(text))[:3])


def read_model_config(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """The folder's ``config.json``, checked: format, networks, and the weights' checksum."""
    from gst_core import __version__

    folder = Path(folder).expanduser()
    where = str(folder)
    for needed in (CONFIG_FILE, WEIGHTS_FILE):
        if not (folder / needed).is_file():
            raise ModelFolderError(
                f"{where!r} is not a model folder: it has no {needed} (make one with "
                "`gst publish RUN -o DIR`)"
            )
    try:
        config = json.loads((folder / CONFIG_FILE).read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelFolderError(
            f"{where}/{CONFIG_FILE} is not valid JSON ({exc}); it was damaged or edited by "
            "hand: restore it from the published copy"
        ) from exc
    if not isinstance(config, dict):
        raise ModelFolderError(f"{where}/{CONFIG_FILE} must hold a JSON object")
    written_by = config.get("gst_version", "?")
    fmt = str(config.get("format", ""))
    if not fmt.startswith("gst.model/"):
        raise ModelFolderError(
            f"{where}/{CONFIG_FILE} is not a gst model config (format {fmt!r}, expected "
            f"{MODEL_FORMAT!r})"
        )
    if fmt != MODEL_FORMAT:
        raise ModelFolderError(
            f"{where} is in model format {fmt!r}, written by gst {written_by}; this gst "
            f"{__version__} reads {MODEL_FORMAT!r}: pip install -U gst-toolkit"
        )
    networks = config.get("networks")
    if (
        not isinstance(networks, dict)
        or not networks
        or not all(
            isinstance(r, dict) and isinstance(r.get("spec"), dict) for r in networks.values()
        )
    ):
        raise ModelFolderError(
            f"{where}/{CONFIG_FILE} has no valid 'networks' table (name → {{'spec': ...}}); "
            "it was damaged or edited by hand: restore it from the published copy"
        )
    expected = config.get("weights_sha256")
    if expected != sha256_of(folder / WEIGHTS_FILE):
        raise ModelFolderError(
            f"{where}/{WEIGHTS_FILE} does not match the checksum in {CONFIG_FILE}: the weights "
            "were changed or damaged after publishing; download or copy the folder again"
        )
    return config


def _component_error(where: str, name: str, record: Mapping[str, Any], exc: Exception) -> str:
    """Which component could not be built, and the distribution that provides it."""
    from gst_core import __version__

    spec = record["spec"]
    dist, version = record.get("distribution"), record.get("distribution_version")
    provider = f"{dist} {version}" if dist else "code registered at run time (no distribution)"
    if dist == "gst-toolkit" and _version_tuple(version or "") > _version_tuple(__version__):
        fix = f"it was written by a newer gst; pip install -U 'gst-toolkit>={version}'"
    elif dist and dist != "gst-toolkit":
        fix = f"install the plugin that provides it: pip install '{dist}>={version}'"
    elif dist:
        fix = f"install gst-toolkit {version} or newer"
    else:
        fix = "register that component (import the module defining it) before loading"
    return (
        f"{where}: cannot build its {name}, {spec.get('kind')} {spec.get('name')!r} from "
        f"{provider}: {exc}. {fix}"
    )


def _load_folder(folder: Path, device: str | torch.device) -> PretrainedNetworks:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from gst_core.kinds import registry

    config = read_model_config(folder)
    where = str(folder)
    try:
        tensors = load_file(str(folder / WEIGHTS_FILE), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelFolderError(
            f"{where}/{WEIGHTS_FILE} is not a readable safetensors file ({exc})"
        ) from exc
    built: dict[str, nn.Module] = {}
    for name, record in config["networks"].items():
        spec = dict(record["spec"])
        kind = spec.pop("kind", None)
        try:
            network = registry(str(kind)).build(spec)
        except (GstError, KeyError) as exc:  # unknown, broken or changed component
            raise ModelFolderError(_component_error(where, name, record, exc)) from exc
        prefix = f"{name}."
        weights = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
        try:
            network.load_state_dict(weights)
        except RuntimeError as exc:
            detail = str(exc).split("\n", 1)[-1].strip().splitlines()[0]
            raise ModelFolderError(
                f"{where}: the weights of {name} do not fit the {kind} its {CONFIG_FILE} "
                f"describes ({spec!r}): {detail}. The config was edited or belongs to other "
                "weights: restore the published folder"
            ) from exc
        built[name] = network.to(device).eval()
    return PretrainedNetworks(built, config, where)


def load_pretrained(
    source: str | os.PathLike[str],
    *,
    device: str | torch.device = "cpu",
    revision: str | None = None,
) -> PretrainedNetworks:
    """The networks of a model folder (or Hub repo ``"user/repo"``), built, in eval mode.

    A name that is not a local folder but looks like ``user/repo`` is fetched with
    ``huggingface_hub`` (the ``hub`` extra), honouring ``HF_HUB_OFFLINE`` and its cache.
    """
    path = Path(source).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ModelFolderError(
                f"{str(source)!r} is a file; load_pretrained takes a model folder "
                "(`gst publish RUN -o DIR` makes one)"
            )
        return _load_folder(path, device)
    if is_hub_name(source):
        from gst_core.apply.hub import download

        return _load_folder(download(source, revision=revision), device)
    raise ModelFolderError(
        f"model folder {str(source)!r} does not exist (and is not a Hub repo name user/repo)"
    )
