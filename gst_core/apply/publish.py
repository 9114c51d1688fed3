"""``gst publish RUN -o DIR``: a run's inference networks as a model folder with a model card.

The published networks are the run's generators (``kind = "generator"`` in its
network specs; a discriminator is training-only), EMA weights where the run
kept them; an AdaIN run adds its frozen encoder, so the folder needs no other
file. The card shows a sample strip made here from the published networks
(noise for a GAN, the first training images for image-to-image), and the metrics
``gst eval --json`` wrote into the run folder, if any.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from gst_core.apply.apply_generator import apply_image_generator
from gst_core.apply.model_card import model_card
from gst_core.apply.model_folder import CARD_FILE, ModelFolderError, write_model_folder
from gst_core.checkpoint import load_checkpoint, load_network, network_spec
from gst_core.images import make_grid, save_image

__all__ = ["SAMPLE_FILE", "image_conventions", "publish"]

SAMPLE_FILE = "sample.png"
_STRIP = 6  # images in the card's sample strip


def image_conventions(network: nn.Module) -> dict[str, Any]:
    """What a user must feed the network and what comes out (gst's ImageGenerator contract)."""
    found: dict[str, Any] = {
        "input": getattr(network, "input_kind", "latent"),
        "value_range": [-1, 1],
        "layout": "NCHW",
    }
    for attr in ("latent_dim", "num_classes", "in_channels", "out_channels", "size_multiple"):
        value = getattr(network, attr, None)
        if isinstance(value, int) and not isinstance(value, bool):
            found[attr] = value
    shape = getattr(network, "image_shape", None)
    if shape is not None and all(int(s) for s in shape):
        found["image_shape"] = [int(s) for s in shape]
    return found


def _run_folder(checkpoint_path: Path) -> Path:
    """``RUN`` of ``RUN/checkpoints/last.pt``; a loose file's own folder."""
    parent = checkpoint_path.parent
    return parent.parent if parent.name == "checkpoints" else parent


def _eval_results(run: Path) -> list[dict[str, Any]]:
    """What ``gst eval --json`` wrote into the run folder (top level or ``eval/``)."""
    results = []
    for path in sorted([*run.glob("*.json"), *run.glob("eval/*.json")]):
        try:
            record = json.loads(path.read_text())
        except (ValueError, OSError, UnicodeDecodeError):
            continue
        if isinstance(record, dict) and record.get("metric") in {"fid", "kid"}:
            results.append({**record, "file": str(path.relative_to(run))})
    return results


def _first_images(dataset: Any, count: int, key: str) -> Tensor:
    """Up to ``count`` images in ``[-1, 1]`` from a dataset's first items (side ``key`` of
    paired/unpaired data)."""
    items = []
    for i in range(min(count, len(dataset))):
        item = dataset[i]
        if isinstance(item, dict):
            item = item.get(key, next(iter(item.values())))
        elif isinstance(item, list | tuple):
            item = item[0]
        items.append(item)
    sizes = {tuple(t.shape) for t in items}
    if len(sizes) != 1:  # folders of mixed sizes: show the first only
        items = items[:1]
    return torch.stack(items)


def _sample_strip(nets: dict[str, nn.Module], dataset: Any) -> Tensor | None:
    """One row per generator: latent ones from seed 0; image ones below their inputs."""
    rows: list[Tensor] = []
    for name, net in nets.items():
        if getattr(net, "input_kind", "latent") == "features":
            continue  # AdaIN's decoder: its input is an encoder's features, not an image
        if getattr(net, "input_kind", "latent") == "latent":
            rng = torch.Generator().manual_seed(0)
            classes = int(getattr(net, "num_classes", 0) or 0)
            labels = torch.arange(_STRIP) % classes if classes else None
            with torch.no_grad():
                rows.append((net(net.sample_latent(_STRIP, generator=rng), labels) + 1) / 2)
            continue
        if dataset is None:
            continue
        inputs = (_first_images(dataset, _STRIP, "B" if name == "g_ba" else "A") + 1) / 2
        outputs = apply_image_generator(net, inputs)
        if inputs.shape[1] != outputs.shape[1]:
            inputs = inputs.expand(-1, 3, -1, -1) if inputs.shape[1] == 1 else inputs[:, :3]
        rows += [inputs, outputs]
    if not rows or len({tuple(r.shape[1:]) for r in rows}) != 1:
        return None
    return make_grid(torch.cat(rows).clamp(0, 1).float(), nrow=len(rows[0]))


def _training_data(state: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """The ``[data]`` table of the run and the dataset it builds (``None`` if it cannot now)."""
    from gst_core.kinds import registry

    data = dict(state.get("spec", {}).get("data", {}) or {})
    spec = {"name": "folder", **data} if "root" in data and "name" not in data else data
    try:
        return data, registry("dataset").build(spec)
    except Exception:  # moved data folder, missing plugin: the card just says less
        return data, None


def publish(
    run: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    license: str = "other",
    ema: bool = True,
    title: str | None = None,
) -> Path:
    """Write the model folder of ``run`` (a run folder or checkpoint file) to ``out``."""
    out = Path(out).expanduser()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ModelFolderError(
            f"{str(out)!r} already exists and is not an empty folder; publish into a new folder"
        )
    state = load_checkpoint(run)
    source = Path(state["path"])
    specs_all = {n: network_spec(state, n) for n in state["networks"]}
    chosen = [n for n, s in specs_all.items() if s.get("kind") == "generator"] or list(specs_all)
    nets = {n: load_network(state, n, ema=ema) for n in chosen}
    weights = {n: "ema" if ema and n in state.get("ema", {}) else "raw" for n in chosen}
    conventions = {n: image_conventions(net) for n, net in nets.items()}
    specs = {n: specs_all[n] for n in chosen}
    if state.get("objective") == "adain":
        from gst_core.apply.adain_model import encoder_for_folder

        nets["encoder"], specs["encoder"] = encoder_for_folder(state)
        weights["encoder"] = "raw"
        # The AdaIN model takes and gives images in [0, 1] (the encoder's convention).
        conventions["decoder"] = {**conventions["decoder"], "value_range": [0, 1]}
        conventions["encoder"] = {"input": "image", "value_range": [0, 1], "layout": "NCHW"}
    data, dataset = _training_data(state)
    try:
        size = len(dataset) if dataset is not None else None
    except TypeError:
        size = None
    run_dir = _run_folder(source)
    meta = {
        "objective": state.get("objective"),
        "objective_config": state.get("objective_config", {}),
        "steps": int(state.get("step", 0)),
        "batch_size": state.get("train", {}).get("batch_size"),
        "training_data": {
            "name": data.get("name", "folder" if "root" in data else None),
            "options": data,
            "size": size,
        },
        "weights": weights,
        "image_conventions": conventions,
        "metrics": _eval_results(run_dir),
        "license": license,
    }
    if "imported_from" in state:  # gst import: the peer's file, for the card
        meta["imported_from"] = state["imported_from"]
    strip = _sample_strip({n: nets[n] for n in chosen}, dataset)
    # Written next to the target, then renamed: a failure leaves no half folder behind.
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)  # mkdtemp's 0700 would make the shared folder private
    try:
        if strip is not None:
            save_image(strip, staging / SAMPLE_FILE)
        write_model_folder(nets, specs, meta, staging)
        config = json.loads((staging / "config.json").read_text())
        card = model_card(
            config, title=title or run_dir.name, sample=SAMPLE_FILE if strip is not None else None
        )
        (staging / CARD_FILE).write_text(card)
        if out.exists():
            out.rmdir()  # empty, checked above
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out
