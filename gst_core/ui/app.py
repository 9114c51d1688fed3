"""The ``gst ui`` page: Gradio components wired to the handlers of :mod:`gst_core.ui`.

Only layout and conversion live here; the work is in the handler modules. Every event that
computes shares one queue slot (``concurrency_id="work"``, limit 1): one job at a time, which
a local app on one machine's memory wants anyway, and each of them can be stopped. A
:class:`~gst_core.errors.GstError` reaches the page as its message; anything else as one line
pointing at the terminal, which has the traceback.
"""

from __future__ import annotations

import functools
import inspect
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

import gradio as gr

from gst_core.errors import GstError
from gst_core.images import open_image
from gst_core.ui import runs as runs_
from gst_core.ui.sample import sample_run
from gst_core.ui.stylize import GatysSettings, gatys, stylize_with_model
from gst_core.ui.translate import translate_uploads
from gst_core.ui.uploads import check_uploads, upload_paths
from gst_core.ui.workspace import Workspace

__all__ = ["build_app"]

GATYS, MODEL, ADAIN = "Gatys (optimisation)", "Trained model (fast_style / gan_style)", "AdaIN"
WORK = {"concurrency_id": "work", "concurrency_limit": 1}


def _page_error(exc: BaseException) -> gr.Error:
    if isinstance(exc, GstError):
        return gr.Error(str(exc), print_exception=False)
    traceback.print_exception(exc, file=sys.stderr)
    return gr.Error(
        f"unexpected error ({type(exc).__name__}: {exc}); the terminal running gst ui has the "
        "details",
        print_exception=False,
    )


def on_page(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` with its errors shown on the page as messages (generators too)."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def stream(*args: Any, **kwargs: Any) -> Any:
            try:
                yield from fn(*args, **kwargs)
            except gr.Error:
                raise
            except Exception as exc:
                raise _page_error(exc) from None

        return stream

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except Exception as exc:
            raise _page_error(exc) from None

    return call


def _optional(text: str | None, what: str) -> float | None:
    """A number typed in a text box; empty: None (the default)."""
    if text is None or not str(text).strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise GstError(
            f"{what} must be a number (or empty for the default), got {text!r}"
        ) from None


def _numbers(text: str | None, what: str) -> list[float] | None:
    """Comma-separated numbers typed in a text box (``1, 3``); empty: None."""
    if text is None or not str(text).strip():
        return None
    try:
        return [float(x) for x in str(text).split(",") if x.strip()]
    except ValueError:
        raise GstError(
            f"{what} must be numbers separated by commas, e.g. 1, 3 (or empty), got {text!r}"
        ) from None


def _run_choices(root: str) -> list[str]:
    try:
        return [str(p) for p in runs_.find_runs(root)]
    except GstError:
        return []


def loss_figure(points: list[tuple[float, str, float]]) -> Any:
    """The logged curves, one line per name, as a matplotlib figure (None: nothing logged).

    A picture rather than Gradio's LinePlot: in Gradio 6.31 a LinePlot given another run's
    data keeps the first run's legend and does not draw the new names' lines.
    """
    if not points:
        return None
    try:
        import matplotlib
    except ImportError:
        raise GstError(
            "the Runs tab plots with matplotlib, which is not installed: "
            "pip install 'gst-toolkit[ui]'"
        ) from None

    matplotlib.use("Agg")  # no display; the page gets a PNG
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 3.4), layout="constrained")
    axes = figure.add_subplot()
    for name in dict.fromkeys(n for _, n, _ in points):
        steps, values = zip(*[(s, v) for s, n, v in points if n == name], strict=True)
        axes.plot(steps, values, label=name, marker="." if len(steps) < 20 else None)
    axes.set_xlabel("step")
    axes.legend(fontsize="small")
    axes.grid(alpha=0.3)
    return figure


def build_app(workspace: Workspace, runs_root: str = "runs", device: str = "cpu") -> gr.Blocks:
    """The page, not yet launched."""
    choices = _run_choices(runs_root)

    def model_box(label: str, elem_id: str) -> gr.Dropdown:
        return gr.Dropdown(
            choices=choices,
            value=None,
            allow_custom_value=True,
            label=label,
            info="a run folder, a model folder (gst publish) or a checkpoint file",
            elem_id=elem_id,
        )

    def input_gallery(elem_id: str) -> gr.Gallery:
        # The uploads shown back, so the user sees what was read (and a bad file is named).
        return gr.Gallery(label="Inputs", columns=4, height=160, format="png", elem_id=elem_id)

    @on_page
    def show_uploads(files: Any) -> list[str]:
        return [str(p) for p in check_uploads(files, "an image", required=False)]

    @on_page
    def show_content_and_styles(content: Any, styles: Any) -> list[str]:
        paths = check_uploads(content, "a content image", required=False)
        return [str(p) for p in [*paths, *check_uploads(styles, "a style", required=False)]]

    @on_page
    def run_stylize(
        method: str,
        content: Any,
        styles: Any,
        model: str | None,
        alpha: float,
        size: float,
        steps: float,
        content_weight: str,
        style_weight: str,
        tv_weight: str,
        weights: str,
        preserve: str,
        preview_every: float,
        mix: str,
        masks: Any,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio's own idiom)
    ) -> Any:
        content_path = upload_paths(content)[0] if content else None
        style_paths = upload_paths(styles)
        mix_weights = _numbers(mix, "the style mix weights")
        mask_paths = upload_paths(masks)
        if method == GATYS:
            settings = GatysSettings(
                size=size,
                steps=steps,
                content_weight=_optional(content_weight, "the content weight"),
                style_weight=_optional(style_weight, "the style weight"),
                tv_weight=_optional(tv_weight, "the TV weight"),
                preserve_color=preserve,
                weights=(weights or "").strip() or None,
                preview_every=int(preview_every) if preview_every else 10,
                device=device,
                style_blend_weights=mix_weights,
            )
            stream = gatys(workspace, content_path, style_paths, settings, masks=mask_paths)
            for update in stream:
                progress((update.step, update.total), desc="stylize", unit="evaluations")
                if update.result is not None:
                    text = f"Done: {update.result.name}, {update.size_text} pixels"
                    yield str(update.result), text, str(update.result)
                elif update.preview is not None:
                    yield update.preview, f"Step {update.step} of {update.total}", gr.skip()
                else:
                    yield gr.skip(), gr.skip(), gr.skip()
            return
        progress(None, desc="one forward pass")
        result = stylize_with_model(
            workspace,
            model,
            content_path,
            style_paths,
            adain=method == ADAIN,
            alpha=float(alpha),
            style_blend_weights=mix_weights,
            masks=mask_paths,
            size=int(size) if size else None,
            preserve_color=preserve,
            device=device,
        )
        from gst_core.ui.stylize import _size_text

        yield str(result), f"Done: {result.name}, {_size_text(result)} pixels", str(result)

    @on_page
    def run_translate(model: str | None, images: Any, direction: str, size: float | None) -> Any:
        written = translate_uploads(
            workspace,
            model,
            upload_paths(images),
            direction=direction,
            size=int(size) if size else None,
            device=device,
        )
        files = [str(p) for p in written]
        text = f"Translated {len(files)} image(s)"
        if written.notice:
            text += f"\n\n{written.notice}"
        return files, text, files

    @on_page
    def run_sample(run: str | None, count: float, label: float | None, seed: float) -> Any:
        grid = sample_run(
            workspace,
            run,
            count,
            label=None if label is None or label < 0 else label,
            seed=seed,
            device=device,
        )
        return str(grid), str(grid)

    @on_page
    def list_runs(root: str) -> Any:
        found = [str(p) for p in runs_.find_runs(root)]
        update = gr.update(choices=found, value=found[0] if found else None)
        models = gr.update(choices=found)
        return update, models, models, models, f"{len(found)} run folder(s) under {root}"

    @on_page
    def show_run(run: str | None) -> Any:
        if not run:
            return None, None, ""
        # As pixels, not a path: a run folder is outside what the page may serve from disk.
        preview = runs_.latest_preview(run)
        image = None if preview is None else open_image(preview)
        return loss_figure(runs_.loss_curves(run)), image, runs_.run_summary(run)

    with gr.Blocks(title="gst", analytics_enabled=False) as app:
        gr.Markdown("## gst: style transfer, image translation and GANs")
        with gr.Tab("Stylize", id="stylize"):
            with gr.Row():
                with gr.Column():
                    content = gr.File(
                        label="Content image", file_types=["image"], elem_id="stylize-content"
                    )
                    styles = gr.File(
                        label="Style image(s)",
                        file_count="multiple",
                        file_types=["image"],
                        elem_id="stylize-styles",
                    )
                    inputs = input_gallery("stylize-inputs")
                    method = gr.Radio([GATYS, MODEL, ADAIN], value=GATYS, label="Method")
                    model = model_box("Model (trained or AdaIN)", "stylize-model")
                    alpha = gr.Slider(
                        0, 1, value=1, step=0.05, label="AdaIN alpha (style strength)"
                    )
                    with gr.Row():
                        size = gr.Number(
                            256, precision=0, label="Size (longer side, px)", elem_id="stylize-size"
                        )
                        steps = gr.Number(
                            100, precision=0, label="Gatys steps", elem_id="stylize-steps"
                        )
                        every = gr.Number(10, precision=0, label="Preview every N steps")
                    preserve = gr.Radio(
                        ["off", "luminance", "histogram"], value="off", label="Preserve colour"
                    )
                    with gr.Accordion("Several styles (Gatys, AdaIN)", open=False):
                        mix = gr.Textbox(
                            label="Style mix weights, one per style in order (empty: equal)",
                            placeholder="e.g. 1, 3",
                            elem_id="stylize-mix",
                        )
                        masks = gr.File(
                            label="Masks instead: one grey image per style, in order (white: "
                            "that style), the content's aspect ratio",
                            file_count="multiple",
                            file_types=["image"],
                            elem_id="stylize-masks",
                        )
                    with gr.Accordion("Weights", open=False):
                        with gr.Row():
                            content_weight = gr.Textbox(
                                label="Content weight", placeholder="default"
                            )
                            style_weight = gr.Textbox(label="Style weight", placeholder="default")
                            tv_weight = gr.Textbox(label="TV weight", placeholder="default")
                        weights = gr.Textbox(
                            label="VGG weights file (empty: auto, offline when none is found)"
                        )
                    with gr.Row():
                        go = gr.Button("Stylize", variant="primary", elem_id="stylize-run")
                        stop = gr.Button("Stop", elem_id="stylize-stop")
                with gr.Column():
                    output = gr.Image(
                        label="Result",
                        format="png",
                        elem_id="stylize-output",
                        interactive=False,
                        height=360,
                    )
                    info = gr.Markdown(elem_id="stylize-info")
                    download = gr.File(label="Download", elem_id="stylize-download")
            for box in (content, styles):
                box.upload(show_content_and_styles, [content, styles], inputs)
            job = go.click(
                run_stylize,
                [
                    method,
                    content,
                    styles,
                    model,
                    alpha,
                    size,
                    steps,
                    content_weight,
                    style_weight,
                    tv_weight,
                    weights,
                    preserve,
                    every,
                    mix,
                    masks,
                ],
                [output, info, download],
                **WORK,
            )
            stop.click(None, cancels=[job])

        with gr.Tab("Translate", id="translate"):
            with gr.Row():
                with gr.Column():
                    t_model = model_box("Model (pix2pix / CycleGAN)", "translate-model")
                    t_images = gr.File(
                        label="Images (any size)",
                        file_count="multiple",
                        file_types=["image"],
                        elem_id="translate-images",
                    )
                    t_inputs = input_gallery("translate-inputs")
                    direction = gr.Radio(
                        [("A → B", "a2b"), ("B → A (CycleGAN)", "b2a")],
                        value="a2b",
                        label="Direction",
                    )
                    t_size = gr.Number(0, precision=0, label="Resize longer side to (0: keep)")
                    with gr.Row():
                        t_go = gr.Button("Translate", variant="primary", elem_id="translate-run")
                        t_stop = gr.Button("Stop")
                with gr.Column():
                    t_output = gr.Gallery(label="Results", format="png", elem_id="translate-output")
                    t_info = gr.Markdown(elem_id="translate-info")
                    t_download = gr.File(label="Download", file_count="multiple")
            t_images.upload(show_uploads, t_images, t_inputs)
            t_job = t_go.click(
                run_translate,
                [t_model, t_images, direction, t_size],
                [t_output, t_info, t_download],
                **WORK,
            )
            t_stop.click(None, cancels=[t_job])

        with gr.Tab("Sample", id="sample"):
            with gr.Row():
                with gr.Column():
                    s_run = model_box("GAN run", "sample-run")
                    with gr.Row():
                        s_count = gr.Number(16, precision=0, label="Images")
                        s_label = gr.Number(-1, precision=0, label="Class (-1: one row per class)")
                        s_seed = gr.Number(0, precision=0, label="Seed")
                    with gr.Row():
                        s_go = gr.Button("Sample", variant="primary", elem_id="sample-run-button")
                        s_stop = gr.Button("Stop")
                with gr.Column():
                    s_output = gr.Image(
                        label="Samples",
                        format="png",
                        interactive=False,
                        elem_id="sample-output",
                        height=360,
                    )
                    s_download = gr.File(label="Download")
            s_job = s_go.click(
                run_sample, [s_run, s_count, s_label, s_seed], [s_output, s_download], **WORK
            )
            s_stop.click(None, cancels=[s_job])

        with gr.Tab("Runs", id="runs"):
            with gr.Row():
                root = gr.Textbox(runs_root, label="Runs folder", scale=3, elem_id="runs-root")
                refresh = gr.Button("List runs", scale=1, elem_id="runs-refresh")
            found = gr.Dropdown(
                choices=choices,
                value=choices[0] if choices else None,
                label="Run",
                elem_id="runs-run",
            )
            r_info = gr.Markdown(elem_id="runs-info")
            with gr.Row():
                curves = gr.Plot(label="Losses (metrics.jsonl)", elem_id="runs-curves")
                preview = gr.Image(
                    label="Latest preview", format="png", interactive=False, height=300
                )
            listed = refresh.click(list_runs, root, [found, model, t_model, s_run, r_info])
            listed.then(show_run, found, [curves, preview, r_info])
            found.change(show_run, found, [curves, preview, r_info])
        app.load(show_run, found, [curves, preview, r_info])
    return app


def launch(
    workspace: Workspace,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    share: bool = False,
    runs_root: str = "runs",
    device: str = "cpu",
) -> None:
    """Build the page and serve it until Ctrl-C or SIGTERM, which propagate to the caller.

    Gradio's own wait loop would swallow the interrupt (and a SIGTERM arriving while it
    starts up left its server thread running, so the process never ended): it serves
    without blocking and this loop waits, closing the server however it ends.
    """
    app = build_app(workspace, runs_root, device)
    app.queue(default_concurrency_limit=1)
    try:
        app.launch(
            server_name=host,
            server_port=port,
            share=share,
            inbrowser=False,
            max_file_size="200mb",
            footer_links=["gradio"],
            prevent_thread_lock=True,
        )
        while app.is_running:
            time.sleep(0.2)
    finally:
        app.close()
