"""The web app's handlers against the command line that does the same work.

Each handler is plain Python over the API; the reference for what it must produce is the
`gst` command doing the same job (a separate path through argparse and files), compared
pixel for pixel. Messages are the GstError ones a CLI user gets.
"""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
import torch
from PIL import Image

from gst_core.cli import main
from gst_core.errors import GstError
from gst_core.ui import runs
from gst_core.ui.sample import sample_run
from gst_core.ui.stylize import GatysSettings, gatys, stylize_with_model
from gst_core.ui.translate import translate_uploads
from gst_core.ui.uploads import UploadError, check_uploads
from gst_core.ui.workspace import Workspace


def _pixels(path):
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def _tree(folder):
    return {p: p.stat().st_mtime_ns for p in folder.rglob("*")}


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # so a stray relative write would show up here
    space = Workspace(tmp_path / "space")
    yield space
    outside = [p for p in tmp_path.iterdir() if p != space.root and p.name != "ref"]
    assert outside == [], f"written outside the workspace: {outside}"


def _not_an_image(tmp_path):
    path = tmp_path / "ref" / "notes.png"
    path.parent.mkdir(exist_ok=True)
    path.write_text("these are notes, not pixels")
    return path


def test_gatys_streams_previews_then_the_same_image_as_the_cli(workspace, photos, tmp_path):
    settings = GatysSettings(size=32, steps=12, preview_every=4, content_weight=1.0)
    updates = list(gatys(workspace, photos["content"], [photos["style"]], settings))
    previews = [u for u in updates if u.preview is not None]
    assert [u.step for u in previews] == [4, 8, 12][: len(previews)] and previews
    assert all(u.preview.size == (32, 19) for u in previews)  # 40×24 scaled to 32 on the long side
    (final,) = [u for u in updates if u.result is not None]
    assert updates[-1] is final and workspace.contains(final.result)
    assert final.size_text == "32×19"
    reference = tmp_path / "ref" / "cli.png"
    assert main(["stylize", str(photos["content"]), str(photos["style"]), "--size", "32",
                 "--steps", "12", "--content-weight", "1", "--quiet", "-o",
                 str(reference)]) == 0  # fmt: skip
    assert np.array_equal(_pixels(final.result), _pixels(reference))


def test_closing_the_gatys_stream_stops_the_optimisation(workspace, photos, monkeypatch):
    from gst_core.pipelines.style_transfer import StyleTransfer

    steps = []
    original = StyleTransfer._after_step
    monkeypatch.setattr(
        StyleTransfer,
        "_after_step",
        lambda self, step, *a: (steps.append(step), original(self, step, *a)),
    )
    settings = GatysSettings(size=32, steps=300, preview_every=3)
    stream = gatys(workspace, photos["content"], [photos["style"]], settings)
    first = next(u for u in stream if u.preview is not None)
    stream.close()  # what the page's Stop does
    worker = [t for t in threading.enumerate() if t.name == "gst-ui-gatys"]
    for thread in worker:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in worker)
    assert first.step == 3 and max(steps) < 300 and max(steps) <= first.step + 3
    assert not list(workspace.root.rglob("*.png"))  # no result: the last preview is what remains


def test_a_non_image_upload_is_refused_by_name(workspace, photos, tmp_path):
    bad = _not_an_image(tmp_path)
    with pytest.raises(UploadError) as caught:
        list(gatys(workspace, bad, [photos["style"]], GatysSettings(size=32, steps=2)))
    message = str(caught.value)
    assert "cannot read 'notes.png' as an image" in message and str(bad.parent) not in message
    with pytest.raises(UploadError, match="cannot read 'notes.png' as an image"):
        check_uploads([photos["style"], bad], "images")
    with pytest.raises(UploadError, match="drop one or more style images first"):
        list(gatys(workspace, photos["content"], [], GatysSettings(size=32, steps=2)))


def test_a_decompression_bomb_upload_is_refused(workspace, photos, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # the 40×24 content is then a bomb
    with pytest.raises(UploadError, match="content.png.*decompression bomb"):
        check_uploads(photos["content"], "a content image")


def test_bad_gatys_options_are_messages(workspace, photos):
    with pytest.raises(Exception, match="size must be a whole number of at least 16"):
        list(gatys(workspace, photos["content"], [photos["style"]], GatysSettings(size=8)))
    with pytest.raises(Exception, match="steps must be a positive integer"):
        list(gatys(workspace, photos["content"], [photos["style"]], GatysSettings(steps=0)))
    with pytest.raises(Exception, match="VGG weights file 'nowhere.pth' does not exist"):
        list(gatys(workspace, photos["content"], [photos["style"]],
                   GatysSettings(weights="nowhere.pth")))  # fmt: skip


def test_a_fast_style_model_gives_what_stylize_model_gives(workspace, photos, runs_root, tmp_path):
    run = runs_root / "fast_style"
    result = stylize_with_model(workspace, run, photos["content"])
    out = tmp_path / "ref"
    assert main(["stylize", "--model", str(run), str(photos["content"]), "-o", str(out),
                 "--quiet"]) == 0  # fmt: skip
    assert np.array_equal(_pixels(result), _pixels(out / "content.png"))
    assert _pixels(result).shape == (24, 40, 3)
    with pytest.raises(Exception, match="is not an AdaIN model"):
        stylize_with_model(workspace, run, photos["content"], [photos["style"]], adain=True)


def test_an_adain_model_with_alpha_gives_what_the_cli_gives(
    workspace, photos, runs_root, tmp_path, monkeypatch
):
    from gst_core.apply import adain_model

    run = runs_root / "adain"
    # A one-step decoder draws nearly one colour whatever alpha is: record what it is given.
    alphas = []
    real = adain_model.adain_stylize
    monkeypatch.setattr(
        adain_model, "adain_stylize", lambda *a, **k: (alphas.append(k["alpha"]), real(*a, **k))[1]
    )
    result = stylize_with_model(
        workspace, run, photos["content"], [photos["style"]], adain=True, alpha=0.5
    )
    out = tmp_path / "ref"
    assert main(["stylize", "--model", str(run), str(photos["content"]), "--style",
                 str(photos["style"]), "--alpha", "0.5", "-o", str(out), "--quiet"]) == 0  # fmt: skip
    assert np.array_equal(_pixels(result), _pixels(out / "content.png"))
    assert alphas == [0.5, 0.5]  # the page's, then the command line's
    with pytest.raises(Exception, match="is an AdaIN model: choose the AdaIN method"):
        stylize_with_model(workspace, run, photos["content"])
    with pytest.raises(Exception, match="'nowhere' does not exist"):
        stylize_with_model(workspace, "nowhere", photos["content"])


@pytest.mark.parametrize(("objective", "direction"), [("pix2pix", "a2b"), ("cyclegan", "b2a")])
def test_translate_gives_what_gst_translate_gives(
    workspace, photos, runs_root, tmp_path, objective, direction
):
    run = runs_root / objective
    written = translate_uploads(
        workspace, str(run), [photos["content"], photos["style"]], direction=direction
    )
    out = tmp_path / "ref"
    assert main(["translate", str(run), str(photos["content"]), str(photos["style"]),
                 "--direction", direction, "-o", str(out)]) == 0  # fmt: skip
    assert [p.name for p in written] == ["content.png", "style.png"]
    for path in written:
        assert workspace.contains(path)
        assert np.array_equal(_pixels(path), _pixels(out / path.name))
    assert _pixels(written[0]).shape == (24, 40, 3)  # any size: cropped back, not resized


def test_translate_messages(workspace, photos, runs_root, tmp_path):
    with pytest.raises(Exception, match="translates one way only"):
        translate_uploads(workspace, runs_root / "pix2pix", [photos["content"]], direction="b2a")
    with pytest.raises(Exception, match="choose a model"):
        translate_uploads(workspace, "  ", [photos["content"]])
    with pytest.raises(UploadError, match="notes.png"):
        translate_uploads(workspace, runs_root / "pix2pix", [_not_an_image(tmp_path)])
    with pytest.raises(Exception, match="makes images from noise"):
        translate_uploads(workspace, runs_root / "gan", [photos["content"]])


def test_sample_gives_what_gst_sample_gives(workspace, runs_root, tmp_path):
    run = runs_root / "gan"
    grid = sample_run(workspace, str(run), 6, seed=3)
    reference = tmp_path / "ref" / "grid.png"
    reference.parent.mkdir(exist_ok=True)
    assert main(["sample", str(run), "-n", "6", "--seed", "3", "-o", str(reference)]) == 0
    assert np.array_equal(_pixels(grid), _pixels(reference))
    assert Image.open(grid).size == (2 + 2 * 18, 2 + 3 * 18)  # one row per class, 2 per row
    one_class = sample_run(workspace, str(run), 4.0, label=2.0, seed=3)
    assert Image.open(one_class).size == (2 + 2 * 18, 2 + 2 * 18)
    with pytest.raises(Exception, match="--label must lie in 0..2, got 3"):
        sample_run(workspace, str(run), 4, label=3)
    with pytest.raises(Exception, match="generator maps images to images"):
        sample_run(workspace, str(runs_root / "pix2pix"))


def test_runs_are_listed_with_their_curves_and_latest_preview(runs_root, tmp_path):
    before = _tree(runs_root)
    found = runs.find_runs(runs_root)
    assert sorted(p.name for p in found) == ["adain", "cyclegan", "fast_style", "gan", "pix2pix"]
    gan = runs_root / "gan"
    assert runs.latest_preview(gan) == gan / "samples" / "step_0000006.png"
    assert _tree(runs_root) == before  # reading changes nothing
    with pytest.raises(Exception, match="runs folder .* does not exist"):
        runs.find_runs(tmp_path / "missing")


def test_loss_curves_from_a_hand_written_log(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    lines = [
        {"step": 1, "seconds": 0.5, "loss_g": 2.0, "loss_d": 1.5},
        {"step": 2, "seconds": 1.0, "loss_g": 1.0, "loss_d": float("nan"), "note": "x"},
        {"step": 2, "error": "interrupted"},
    ]
    text = "\n".join(json.dumps(line) for line in lines) + '\n{"step": 3, "loss_g'
    (run / "metrics.jsonl").write_text(text)
    assert runs.loss_curves(run) == [
        (1.0, "loss_g", 2.0),
        (1.0, "loss_d", 1.5),
        (2.0, "loss_g", 1.0),
    ]
    summary = runs.run_summary(run)
    assert "3 logged steps, last step 2" in summary and "stopped with: interrupted" in summary
    assert "no preview yet" in summary
    assert runs.find_runs(tmp_path) == [run]


def _masks(tmp_path, width=40, height=24):
    """Two complementary masks: the left half for style 1, the right half for style 2."""
    folder = tmp_path / "ref" / f"masks-{width}x{height}"
    folder.mkdir(parents=True, exist_ok=True)
    left = np.zeros((height, width), np.uint8)
    left[:, : width // 2] = 255
    paths = [folder / "left.png", folder / "right.png"]
    Image.fromarray(left).save(paths[0])
    Image.fromarray(255 - left).save(paths[1])
    return paths


def _two_styles(photos):
    # The second style is the content picture itself: a style that differs from the first.
    return [photos["style"], photos["content"]]


GATYS_ARGS = ["--size", "32", "--steps", "6", "--content-weight", "1", "--quiet"]


def _gatys_result(workspace, photos, masks=None, **settings):
    settings = GatysSettings(size=32, steps=6, content_weight=1.0, **settings)
    updates = list(gatys(workspace, photos["content"], _two_styles(photos), settings, masks=masks))
    return updates[-1].result


def _cli_gatys(photos, out, *flags):
    styles = [str(p) for p in _two_styles(photos)]
    assert main(["stylize", str(photos["content"]), *styles, *GATYS_ARGS, *flags,
                 "-o", str(out)]) == 0  # fmt: skip
    return _pixels(out)


def test_gatys_style_mix_weights_give_what_the_cli_gives(workspace, photos, tmp_path):
    mixed = _gatys_result(workspace, photos, style_blend_weights=[1.0, 3.0])
    reference = _cli_gatys(photos, tmp_path / "ref" / "mix.png", "--style-blend-weights", "1,3")
    assert np.array_equal(_pixels(mixed), reference)
    # The weights reach the optimisation: equal weights give another picture.
    assert not np.array_equal(_pixels(_gatys_result(workspace, photos)), reference)


def test_gatys_masks_give_what_the_cli_gives(workspace, photos, tmp_path):
    masks = _masks(tmp_path)
    masked = _gatys_result(workspace, photos, masks=masks)
    reference = _cli_gatys(photos, tmp_path / "ref" / "masked.png",
                           "--mask", str(masks[0]), "--mask", str(masks[1]))  # fmt: skip
    assert np.array_equal(_pixels(masked), reference)
    assert not np.array_equal(_pixels(_gatys_result(workspace, photos)), reference)


def test_adain_style_mix_weights_and_masks_give_what_the_cli_gives(
    workspace, photos, runs_root, tmp_path, monkeypatch
):
    from gst_core.apply import adain_model

    run = runs_root / "adain"
    # A one-step decoder draws nearly one colour whatever it is given: record what it gets too.
    given = []
    real = adain_model.adain_stylize
    monkeypatch.setattr(
        adain_model, "adain_stylize", lambda *a, **k: (given.append(k), real(*a, **k))[1]
    )
    masks = _masks(tmp_path)
    styles = [str(p) for p in _two_styles(photos)]
    for name, page, flags in (
        ("mix", {"style_blend_weights": [1.0, 3.0]}, ["--style-blend-weights", "1,3"]),
        ("masks", {"masks": masks}, ["--mask", str(masks[0]), "--mask", str(masks[1])]),
    ):
        result = stylize_with_model(
            workspace, run, photos["content"], _two_styles(photos), adain=True, **page
        )
        out = tmp_path / "ref" / name
        assert main(["stylize", "--model", str(run), str(photos["content"]), "--style", *styles,
                     *flags, "-o", str(out), "--quiet"]) == 0  # fmt: skip
        assert np.array_equal(_pixels(result), _pixels(out / "content.png"))
    page_mix, cli_mix, page_masks, cli_masks = given
    assert page_mix["weights"] == cli_mix["weights"] == [1.0, 3.0]
    assert page_mix["masks"] is None and page_masks["weights"] is None
    halves = [torch.from_numpy(_pixels(m).copy()).permute(2, 0, 1)[None] / 255.0 for m in masks]
    for mask, expected in zip(page_masks["masks"], halves, strict=True):
        assert torch.equal(mask, expected)
    assert cli_masks["masks"] == [str(m) for m in masks]


@pytest.mark.parametrize("adain", [False, True])
def test_style_mix_and_mask_mistakes_are_messages(workspace, photos, runs_root, tmp_path, adain):
    masks = _masks(tmp_path)
    square = _masks(tmp_path, 30, 30)  # the content is 40×24

    def stylize(**options):
        if adain:
            mix = options.pop("style_blend_weights", None)
            stylize_with_model(workspace, runs_root / "adain", photos["content"],
                               _two_styles(photos), adain=True, style_blend_weights=mix,
                               size=32, **options)  # fmt: skip
        else:
            list(gatys(workspace, photos["content"], _two_styles(photos),
                       GatysSettings(size=32, steps=2, style_blend_weights=options.pop(
                           "style_blend_weights", None)), **options))  # fmt: skip

    with pytest.raises(GstError, match=r"^1 style mix weight\(s\) for 2 style image\(s\)"):
        stylize(style_blend_weights=[1.0])
    with pytest.raises(GstError, match="must be 0 or more with a positive sum"):
        stylize(style_blend_weights=[1.0, -1.0])
    with pytest.raises(GstError, match=r"^1 mask\(s\) for 2 style image\(s\); give one mask"):
        stylize(masks=masks[:1])
    with pytest.raises(GstError, match=r"mask 1 \(left.png\) is 30×30 but the content is 32×19"):
        stylize(masks=square)
    with pytest.raises(GstError, match="use one or the other"):
        stylize(style_blend_weights=[1.0, 3.0], masks=masks)
    with pytest.raises(UploadError, match="cannot read 'notes.png' as an image"):
        stylize(masks=[masks[0], _not_an_image(tmp_path)])
    assert not list(workspace.root.rglob("*.png"))  # refused before any work


def test_a_trained_model_refuses_style_mix_and_masks(workspace, photos, runs_root, tmp_path):
    with pytest.raises(GstError, match="a trained model's style is its own"):
        stylize_with_model(workspace, runs_root / "fast_style", photos["content"],
                           masks=_masks(tmp_path))  # fmt: skip


def test_translate_says_what_gst_translate_says_of_a_two_way_model(
    workspace, photos, runs_root, tmp_path, capsys
):
    run = runs_root / "cyclegan"
    written = translate_uploads(workspace, str(run), [photos["content"]])
    capsys.readouterr()
    assert main(["translate", str(run), str(photos["content"]), "-o", str(tmp_path / "ref")]) == 0
    (cli,) = [x for x in capsys.readouterr().err.splitlines() if "both ways" in x]
    # The same words, but the page's control where the command names its flag.
    expected = cli.removeprefix("gst: ").replace(
        "pass --direction b2a", "choose B → A under Direction"
    )
    assert written.notice == expected and "cyclegan/checkpoints/last.pt translates both ways" in cli
    assert (
        translate_uploads(workspace, str(run), [photos["content"]], direction="b2a").notice is None
    )
    assert translate_uploads(workspace, runs_root / "pix2pix", [photos["content"]]).notice is None
