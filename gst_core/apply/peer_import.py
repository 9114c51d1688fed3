"""`gst import`: a model trained by a peer project as a gst run folder.

Reads the state dicts those projects save, with ``torch.load(weights_only=True)``
only (a file that needs arbitrary unpickling is refused, never run):

* ``cyclegan`` / ``pix2pix``: junyanz/pytorch-CycleGAN-and-pix2pix's
  ``latest_net_G.pth``, ``latest_net_G_A.pth`` (A → B) and ``latest_net_G_B.pth``
  (B → A); ``resnet_Nblocks`` and ``unet_N`` generators with batch or instance
  norm. gst's ``resnet``/``unet`` generators have the reference's layout layer
  for layer, so the keys carry over; running statistics that old torch versions
  saved for instance norm are dropped, as the reference's loader does.
* ``fast_neural_style``: pytorch/examples' saved style models (a state dict of
  its ``TransformerNet``, 0..255 in and out), renamed onto gst's
  ``transformer_net`` with ``scale_255 = True``.
* ``adain``: naoto0804/pytorch-AdaIN's ``decoder.pth`` onto gst's ``adain_decoder``,
  behind its ``vgg_normalised.pth`` encoder (``encoder``; see :mod:`.peer_adain`).

The architecture is read from the weights' names and shapes; ``arch`` only
checks it. The result is a run folder (``checkpoints/last.pt`` in gst's
checkpoint format, plus ``config.json``) that ``gst translate``, ``gst stylize
--model`` and ``gst export`` take like a trained one, or with ``model_folder``
a published model folder (safetensors + config.json + model card, as ``gst
publish`` writes) that the same commands take.
"""

from __future__ import annotations

import json
import pickle
import re
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from gst_core.apply import peer_adain
from gst_core.apply.model_folder import sha256_of
from gst_core.atomic_file import atomic_write
from gst_core.checkpoint import CHECKPOINT_FORMAT, save_checkpoint
from gst_core.errors import GstError

__all__ = [
    "PROJECTS",
    "SOURCES",
    "PeerImportError",
    "PeerModel",
    "import_peer",
    "read_peer",
    "recognise",
]

#: ``--from`` values → the gst objective the imported run is recorded as.
PROJECTS = {
    "cyclegan": "cyclegan",
    "pix2pix": "pix2pix",
    "fast_neural_style": "fast_style",
    "adain": "adain",
}
#: Where each ``--from`` value's files come from (for the run's record and the model card).
SOURCES = {
    "cyclegan": "junyanz/pytorch-CycleGAN-and-pix2pix (CycleGAN)",
    "pix2pix": "junyanz/pytorch-CycleGAN-and-pix2pix (pix2pix)",
    "fast_neural_style": "pytorch/examples fast_neural_style",
    "adain": "naoto0804/pytorch-AdaIN",
}
#: What each project's file is, for messages (None: a pix2pix/CycleGAN generator).
_KIND = {
    "fast_neural_style": "a fast_neural_style model",
    "adain": "pytorch-AdaIN's decoder",
    None: "a pix2pix/CycleGAN generator",
}

_INSTANCE_STATS = re.compile(r"(running_mean|running_var|num_batches_tracked)$")


class PeerImportError(GstError, ValueError):
    """A file ``gst import`` cannot turn into a gst model (says what the file looked like)."""


@dataclass
class PeerModel:
    """One generator of a peer's file: what it is and its weights in gst's key names."""

    project: str | None  # None: the weights alone cannot tell (pix2pix or CycleGAN)
    arch: str  # the reference's name: resnet_9blocks, unet_256, transformer_net, ...
    spec: dict[str, Any]  # the gst generator that holds it
    weights: dict[str, Tensor]

    def describe(self) -> str:
        s = self.spec
        if s["name"] == "adain_decoder":
            return (
                f"pytorch-AdaIN decoder (width x{s['width_multiplier']:g}, "
                f"{s['in_channels']} feature channels in)"
            )
        if s["name"] == "transformer_net":
            return (
                f"transformer_net (width {s['channels']}, {s['residual_blocks']} residual blocks)"
            )
        return (
            f"{self.arch} ({s['norm']} norm, width {s['width']}, "
            f"{s['in_channels']} → {s['out_channels']} channels)"
        )


def layout(state: Mapping[str, Any], limit: int = 6) -> str:
    """The first few keys and shapes, for messages about a file that is not what was asked."""
    items = list(state.items())
    shown = ", ".join(
        f"{k} {tuple(v.shape)}" if isinstance(v, Tensor) else f"{k} ({type(v).__name__})"
        for k, v in items[:limit]
    )
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return f"{len(items)} entries: {shown}{more}" if items else "an empty dict"


def read_peer(path: str | Path) -> dict[str, Tensor]:
    """The state dict in ``path`` (a ``module.`` prefix from DataParallel removed)."""
    path = Path(path)
    if not path.is_file():
        raise PeerImportError(f"{str(path)!r} does not exist or is not a file")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise PeerImportError(
            f"{str(path)!r} holds pickled Python objects, not only weights, so gst will not "
            "load it (weights_only=True: unpickling could run code). Re-save it in its own "
            "project as torch.save(model.state_dict(), path)"
        ) from exc
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise PeerImportError(f"{str(path)!r} is not a torch file ({reason})") from exc
    if isinstance(state, Mapping) and state.get("format") == CHECKPOINT_FORMAT:
        raise PeerImportError(
            f"{str(path)!r} is already a gst checkpoint; use it directly (gst translate, "
            "gst stylize --model, gst export)"
        )
    if isinstance(state, Mapping) and set(state) == {"state_dict"}:
        state = state["state_dict"]
    if not isinstance(state, Mapping) or not all(isinstance(v, Tensor) for v in state.values()):
        what = layout(state) if isinstance(state, Mapping) else type(state).__name__
        raise PeerImportError(
            f"{str(path)!r} is not a state dict of tensors (it holds {what}); gst import "
            "reads the generator files the peer projects save (latest_net_G*.pth, "
            "fast_neural_style's *.pth models)"
        )
    if state and all(str(k).startswith("module.") for k in state):
        state = {k[len("module.") :]: v for k, v in state.items()}
    return {str(k): v for k, v in state.items()}


def _norm_of(state: Mapping[str, Tensor], norm_key: str, conv_key: str) -> str:
    """Batch norm keeps affine weights at the norm's index; instance norm none (and then its
    convolution keeps a bias, as the reference builds it)."""
    if f"{norm_key}.weight" in state:
        return "batch"
    if f"{conv_key}.bias" in state:
        return "instance"
    raise PeerImportError(
        "the generator has neither normalisation weights nor convolution biases (the "
        "reference's --norm none); gst's networks cannot hold that layout"
    )


def _resnet(state: Mapping[str, Tensor]) -> PeerModel:
    first = state["model.1.weight"]
    blocks = sorted(
        {int(m.group(1)) for k in state if (m := re.match(r"model\.(\d+)\.conv_block\.", k))}
    )
    # A block's second convolution sits at index 5, or 6 behind a dropout layer.
    second = state.get(f"model.{blocks[0]}.conv_block.6.weight") if blocks else None
    dropout = second is not None and second.dim() == 4
    convs = [int(m.group(1)) for k in state if (m := re.fullmatch(r"model\.(\d+)\.weight", k))]
    last = state[f"model.{max(convs)}.weight"]
    spec = {
        "name": "resnet",
        "in_channels": int(first.shape[1]),
        "out_channels": int(last.shape[0]),
        "width": int(first.shape[0]),
        "n_blocks": len(blocks),
        "norm": _norm_of(state, "model.2", "model.1"),
        "dropout": 0.5 if dropout else 0.0,
        "upsampling": "transposed",
    }
    return PeerModel(None, f"resnet_{len(blocks)}blocks", spec, dict(state))


def _unet(state: Mapping[str, Tensor]) -> PeerModel:
    first = state["model.model.0.weight"]
    # Outermost block: [down, submodule, relu, up, tanh]; the next ones hold their
    # submodule at index 3 ([relu, down, norm, submodule, ...]).
    depth, prefix, index = 1, "model.model.", "1"
    while any(k.startswith(f"{prefix}{index}.model.") for k in state):
        depth, prefix, index = depth + 1, f"{prefix}{index}.model.", "3"
    spec = {
        "name": "unet",
        "in_channels": int(first.shape[1]),
        "out_channels": int(state["model.model.3.weight"].shape[1]),
        "num_downs": depth,
        "width": int(first.shape[0]),
        "norm": _norm_of(state, "model.model.1.model.2", "model.model.1.model.1"),
        "dropout": 0.5,  # the reference's pix2pix default; inactive when the model is applied
    }
    return PeerModel(None, f"unet_{2**depth}", spec, dict(state))


def _transformer_net(state: Mapping[str, Tensor]) -> PeerModel:
    blocks = sorted({int(m.group(1)) for k in state if (m := re.match(r"res(\d+)\.", k))})
    # pytorch/examples' layer order, which is also the order of gst's transformer_net.
    names = ["conv1.conv2d", "in1", "conv2.conv2d", "in2", "conv3.conv2d", "in3"]
    for i in blocks:
        names += [f"res{i}.conv1.conv2d", f"res{i}.in1", f"res{i}.conv2.conv2d", f"res{i}.in2"]
    names += ["deconv1.conv2d", "in4", "deconv2.conv2d", "in5", "deconv3.conv2d"]
    # Saved by torch < 0.4, instance norm's running statistics: the reference deletes them.
    kept = {k: v for k, v in state.items() if not re.search(r"in\d+\.running_(mean|var)$", k)}
    ordered = [f"{n}.{p}" for n in names for p in ("weight", "bias")]
    missing = [k for k in ordered if k not in kept]
    extra = sorted(set(kept) - set(ordered))
    if missing or extra:
        raise PeerImportError(
            "this looks like pytorch/examples' TransformerNet but does not fit it: "
            f"missing {missing[:4]}, unexpected {extra[:4]}"
        )
    spec = {
        "name": "transformer_net",
        "channels": int(state["conv1.conv2d.weight"].shape[0]),
        "residual_blocks": len(blocks),
        "scale_255": True,
    }
    return PeerModel("fast_neural_style", "transformer_net", spec, {k: kept[k] for k in ordered})


def _adain_decoder(state: Mapping[str, Tensor]) -> PeerModel:
    spec = peer_adain.decoder_spec(state)
    weights = {f"layers.{k}": v for k, v in state.items()}
    return PeerModel("adain", "adain_decoder", spec, weights)


def recognise(state: Mapping[str, Tensor], where: str) -> PeerModel:
    """Which peer generator ``state`` is, from its keys and shapes."""
    if peer_adain.is_reference_decoder(state):
        return _adain_decoder(state)
    if peer_adain.is_reference_vgg(state):
        raise PeerImportError(
            f"{where} looks like pytorch-AdaIN's encoder vgg_normalised.pth (0.weight (3, 3, 1, "
            "1), the colour conv), not a model; import its decoder.pth and pass this file as "
            "--encoder"
        )
    if "conv1.conv2d.weight" in state and "deconv3.conv2d.weight" in state:
        return _transformer_net(state)
    if "model.model.0.weight" in state and "model.model.3.weight" in state:
        return _unet(state)
    first = state.get("model.1.weight")
    if first is not None and first.dim() == 4 and first.shape[-1] == 7:
        return _resnet(state)
    conv0 = state.get("model.0.weight")
    if conv0 is not None and conv0.dim() == 4 and conv0.shape[-1] == 4:
        raise PeerImportError(
            f"{where} looks like a PatchGAN discriminator (net_D: model.0.weight "
            f"{tuple(conv0.shape)}); import the generator file instead (latest_net_G.pth, or "
            "latest_net_G_A.pth / latest_net_G_B.pth for CycleGAN)"
        )
    raise PeerImportError(
        f"{where} is not a generator gst can import (it holds {layout(state)}); gst import "
        "reads pytorch-CycleGAN-and-pix2pix's resnet/unet generators (latest_net_G*.pth), "
        "pytorch/examples' fast_neural_style models and pytorch-AdaIN's decoder.pth"
    )


def _check_arch(model: PeerModel, arch: str | None, where: str) -> None:
    if arch is None or arch == model.arch or arch == model.spec["name"]:
        return
    raise PeerImportError(
        f"--arch {arch}, but {where} holds a {model.describe()}; leave --arch out (the "
        "architecture is read from the file) or import the file you meant"
    )


def _project(model: PeerModel, project: str | None, path: Path) -> str:
    if project is not None:
        if project not in PROJECTS:
            raise PeerImportError(f"--from {project!r}: choose one of {', '.join(PROJECTS)}")
        expected = project if project in ("fast_neural_style", "adain") else None
        if model.project != expected:
            raise PeerImportError(
                f"--from {project}, but {path} holds a {model.describe()}: {_KIND[model.project]}"
            )
        return project
    if model.project is not None:
        return model.project
    if re.search(r"G_[AB]\b|G_[AB]\.", path.name):
        return "cyclegan"  # only CycleGAN saves two generators, G_A and G_B
    raise PeerImportError(
        f"{path} holds a pytorch-CycleGAN-and-pix2pix generator, {model.describe()}; the "
        "weights alone do not say whether pix2pix or CycleGAN trained it: pass --from pix2pix "
        "or --from cyclegan"
    )


def _sibling(path: Path) -> tuple[str, Path] | None:
    """CycleGAN's other direction next to ``path`` (``..._G_A.pth`` ↔ ``..._G_B.pth``)."""
    for own, other, name in (("G_A", "G_B", "g_ba"), ("G_B", "G_A", "g_ab")):
        if own in path.name:
            candidate = path.with_name(path.name.replace(own, other))
            if candidate.is_file():
                return name, candidate
    return None


def _network_name(project: str, path: Path) -> str:
    if project == "adain":
        return "decoder"  # the adain objective's name for it
    if project != "cyclegan":
        return "generator"
    return "g_ba" if "G_B" in path.name else "g_ab"


def _load_into_gst(model: PeerModel, where: str) -> dict[str, Tensor]:
    """The weights under gst's names, checked by loading them into the gst network."""
    from gst_core.kinds import registry

    net = registry("generator").build(dict(model.spec))
    target = net.state_dict()
    source = model.weights
    if model.spec["name"] == "transformer_net":
        source = dict(zip(target, source.values(), strict=True))  # same order, gst's names
    elif model.spec.get("norm") == "instance":
        source = {k: v for k, v in source.items() if k in target or not _INSTANCE_STATS.search(k)}
    for key, value in target.items():
        # Saved by torch < 0.4.1: batch norm without its (unused at test time) counter.
        if key.endswith("num_batches_tracked") and key not in source:
            source[key] = torch.zeros_like(value)
    try:
        net.load_state_dict(source)
    except RuntimeError as exc:
        detail = str(exc).split("\n", 1)[-1].strip().splitlines()[0]
        raise PeerImportError(
            f"{where} looks like a {model.describe()} but its weights do not fit one: {detail}"
        ) from exc
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def import_peer(
    path: str | Path,
    out: str | Path,
    *,
    project: str | None = None,
    arch: str | None = None,
    encoder: str | Path | None = None,
    model_folder: bool = False,
) -> Path:
    """Turn the peer model file ``path`` into the run folder ``out``; returns its checkpoint.

    For CycleGAN a ``..._G_A.pth`` / ``..._G_B.pth`` file next to ``path`` is imported
    with it (both directions). For AdaIN ``encoder`` is pytorch-AdaIN's
    ``vgg_normalised.pth``. ``out`` must not exist yet, or be an empty folder. With
    ``model_folder`` ``out`` becomes a model folder (as ``gst publish`` writes) and is
    returned.
    """
    path, out = Path(path).expanduser(), Path(out).expanduser()
    what = "model folder" if model_folder else "run folder"
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise PeerImportError(
            f"the output {str(out)!r} already exists and is not an empty folder; gst import "
            f"writes a new {what} and never replaces one: give another -o"
        )
    model = recognise(read_peer(path), str(path))
    _check_arch(model, arch, str(path))
    detected = project is None
    project = _project(model, project, path)
    if detected:  # said, so a wrong guess is seen before the model is used
        print(f"gst: {path.name} is a {model.describe()} ({project})", file=sys.stderr)
    if encoder is not None and project != "adain":
        raise PeerImportError(
            f"--encoder is the encoder of a pytorch-AdaIN decoder, but {path} holds a "
            f"{model.describe()}; leave --encoder out"
        )
    if not model_folder:
        return _write_run(model, path, project, out, encoder)
    from gst_core.apply.publish import publish

    # Imported into a run folder next to the output, then published from it: one writer
    # of model folders (publish), and a failure leaves neither folder behind.
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.import.", dir=out.parent))
    try:
        _write_run(model, path, project, staging / "run", encoder)
        title = f"{path.stem} (imported from {SOURCES[project]})"
        return publish(staging / "run", out, title=title)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write_run(
    model: PeerModel, path: Path, project: str, out: Path, encoder: str | Path | None
) -> Path:
    """The run folder ``out`` of the recognised ``model``; returns its checkpoint."""
    files = {_network_name(project, path): path}
    if project == "cyclegan" and (other := _sibling(path)) is not None:
        files.setdefault(*other)
    networks, specs, sources = {}, {}, {}
    for name, file in files.items():
        found = model if file == path else recognise(read_peer(file), str(file))
        networks[name] = _load_into_gst(found, str(file))
        specs[name] = {"kind": "generator", **found.spec}
        sources[name] = {"file": str(file.resolve()), "sha256": sha256_of(file), "arch": found.arch}
    objective_config: dict[str, Any] = {}
    if project == "adain":
        spec = peer_adain.adain_encoder_spec(encoder, model.spec["in_channels"])
        objective_config = {"layers": list(peer_adain.TAPS), "encoder": spec}
        if encoder is not None:
            sources["encoder"] = {"file": spec["weights"], "sha256": sha256_of(Path(encoder))}
    objective = PROJECTS[project]
    record = {"project": project, "source": SOURCES[project], "networks": sources}
    state = {
        "objective": objective,
        "objective_config": objective_config,
        "objective_state": {},
        "network_specs": specs,
        "networks": networks,
        "ema": {},
        "step": 0,
        "batches": 0,
        "spec": {name: {k: v for k, v in s.items() if k != "kind"} for name, s in specs.items()},
        "imported_from": record,
    }
    checkpoint = save_checkpoint(state, out / "checkpoints" / "last.pt")
    with atomic_write(out / "config.json") as f:
        text = {"objective": objective, "imported_from": record, "network_specs": specs}
        f.write((json.dumps(text, indent=2) + "\n").encode())
    return checkpoint
