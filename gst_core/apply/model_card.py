"""The model card (``README.md``) of a model folder, from its ``config.json``.

Sections: what the model does, how it was trained, metrics (what ``gst eval``
measured, or a statement that nothing was), a sample strip, the licence and
the three lines that load it. Plain Markdown with a YAML header (the Hub reads
``license`` and ``tags`` there).
"""

from __future__ import annotations

from typing import Any

__all__ = ["CARD_SECTIONS", "model_card"]

CARD_SECTIONS = ("What it does", "How it was trained", "Metrics", "Sample", "Licence", "Use it")

_WHAT = {
    "gan": "draws images from random noise (a GAN generator)",
    "pix2pix": "translates images of domain A to domain B, trained on aligned pairs (pix2pix)",
    "cyclegan": "translates images between domains A and B both ways, trained on unpaired "
    "images (CycleGAN)",
    "fast_style": "stylises any photo in one forward pass with the style it was trained on "
    "(fast neural style transfer)",
    "gan_style": "stylises photos in one forward pass with a style learnt from a set of "
    "artworks (adversarial style transfer)",
    "adain": "stylises any photo with any style image given when it is applied, in one "
    "forward pass (AdaIN arbitrary style transfer)",
}


def _what(config: dict[str, Any]) -> str:
    objective = config.get("objective")
    nets = ", ".join(f"`{n}`" for n in config["networks"])
    does = _WHAT.get(str(objective), f"was trained with the `{objective}` objective")
    return f"This model {does}. Networks: {nets}."


def _training(config: dict[str, Any]) -> list[str]:
    data = config.get("training_data", {})
    size = data.get("size")
    imported = config.get("imported_from")
    if imported:
        files = config["imported_from"].get("networks", {})
        lines = [
            f"- trained by {imported.get('source', imported.get('project'))} (not by gst); "
            "imported with `gst import`"
        ]
        lines += [f"- `{n}` from `{r.get('file')}`, sha256 `{r.get('sha256')}`"
                  for n, r in files.items()]  # fmt: skip
        lines.append(f"- runs as gst's `{config.get('objective')}` model")
    else:
        lines = [
            f"- objective: `{config.get('objective')}`, {config.get('steps')} steps, batch "
            f"size {config.get('batch_size')}",
            f"- data: `{data.get('name')}`" + (f", {size} items" if size is not None else ""),
        ]
    for name, record in config["networks"].items():
        spec = {k: v for k, v in record["spec"].items() if k != "kind"}
        weights = config.get("weights", {}).get(name, "raw")
        lines.append(
            f"- `{name}`: {record['spec'].get('kind')} `{spec}` from {record.get('distribution')} "
            f"{record.get('distribution_version')} ({'EMA' if weights == 'ema' else 'raw'} "
            "weights)"
        )
    lines.append(f"- published with gst {config.get('gst_version')}")
    return lines


def _metrics(config: dict[str, Any]) -> list[str]:
    results = config.get("metrics") or []
    if not results:
        return ["None measured: no `gst eval --json` result was found in the run folder."]
    lines = [
        "| metric | value | extractor | comparable with published numbers | file |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        value = f"{r['value']:.6g}" + (f" ± {r['std']:.3g}" if "std" in r else "")
        lines.append(
            f"| {str(r['metric']).upper()} | {value} | {r.get('extractor')} | "
            f"{r.get('comparable_with_published', False)} | {r.get('file')} |"
        )
    return lines


def _usage(config: dict[str, Any]) -> list[str]:
    name = next(iter(config["networks"]))
    conventions = config.get("image_conventions", {}).get(name, {})
    first = "import gst_core"
    if config.get("objective") == "adain":
        return [
            "`MODEL_DIR` is this folder:",
            "",
            "```python",
            "from gst_core.apply.adain_model import adain_stylize",
            'images = adain_stylize("MODEL_DIR", "photo.jpg", ["style.jpg"], alpha=1.0)',
            "```",
            "",
            "From the command line:",
            "",
            "```bash",
            "gst stylize --model MODEL_DIR photo.jpg --style style.jpg -o out/",
            "```",
        ]
    if conventions.get("input") == "latent":
        classes = conventions.get("num_classes", 0)
        labels = ""
        if classes:  # a class-conditional generator needs one label per image
            first, labels = "import gst_core, torch", f", torch.arange(8) % {classes}"
        third = f"images = generator(generator.sample_latent(8){labels})  # in [-1, 1]"
        cli = "gst sample MODEL_DIR -n 64 -o grid.png"
    else:
        multiple = conventions.get("size_multiple", 1)
        third = (
            f"output = generator(image * 2 - 1)  # image (B, C, H, W) in [0, 1], H and W "
            f"multiples of {multiple}; output in [-1, 1]"
        )
        cli = "gst translate MODEL_DIR photo.jpg -o out/  # any size: padded and cropped back"
    return [
        "`MODEL_DIR` is this folder (or its Hub name, `user/repo`):",
        "",
        "```python",
        first,
        f'generator = gst_core.load_pretrained("MODEL_DIR")["{name}"]',
        third,
        "```",
        "",
        "From the command line:",
        "",
        "```bash",
        cli,
        "```",
    ]


def _no_sample(config: dict[str, Any]) -> str:
    if config.get("imported_from"):
        return "No sample: the model was imported (`gst import`), with no training data at hand."
    if config.get("objective") == "adain":
        return "No sample: an AdaIN model needs a style image; see Use it."
    return "No sample could be made (the training data was not found when publishing)."


def model_card(config: dict[str, Any], *, title: str, sample: str | None) -> str:
    """The Markdown model card; ``sample`` is the strip image's path relative to the folder."""
    licence = config.get("license", "other")
    parts = [
        "---",
        f"license: {licence}",
        "library_name: gst",
        f"tags: [gst, {config.get('objective')}]",
        "---",
        "",
        f"# {title}",
        "",
        "## What it does",
        "",
        _what(config),
        "",
        "## How it was trained",
        "",
        *_training(config),
        "",
        "## Metrics",
        "",
        *_metrics(config),
        "",
        "## Sample",
        "",
        f"![samples]({sample})" if sample else _no_sample(config),
        "",
        "## Licence",
        "",
        f"{licence}"
        + (" (not stated by the publisher: ask before reuse)" if licence == "other" else ""),
        "",
        "## Use it",
        "",
        *_usage(config),
        "",
    ]
    return "\n".join(parts)
