"""`gst ui`'s own messages, and errors reaching the page as messages, never tracebacks."""

from __future__ import annotations

import importlib.util

import pytest

from gst_core.cli import main
from gst_core.errors import GstError


def test_without_gradio_the_command_names_the_extra(monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "gradio" else real(name, *a)
    )
    assert main(["ui"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (
        "gst: error: gst ui needs Gradio, which is not installed: pip install 'gst-toolkit[ui]'"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--port", "0"], "--port must be at least 1, got 0"),
        (["--port", "70000"], "--port must be at most 65535, got 70000"),
        (["--device", "bogus"], "'bogus' is not a device"),
    ],
)
def test_bad_options_are_messages(argv, message, capsys):
    pytest.importorskip("gradio", reason="the ui extra is not installed")
    assert main(["ui", *argv]) == 2
    assert message in capsys.readouterr().err


def test_errors_become_page_messages_for_functions_and_streams(capsys):
    gr = pytest.importorskip("gradio", reason="the ui extra is not installed")
    from gst_core.ui.app import on_page

    @on_page
    def fails(kind):
        raise GstError("the model 'x' does not exist") if kind == "ours" else KeyError("k")

    @on_page
    def streams():
        yield 1
        raise GstError("stopped: lower the weights")

    with pytest.raises(gr.Error) as caught:
        fails("ours")
    assert caught.value.message == "the model 'x' does not exist"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    with pytest.raises(gr.Error) as caught:
        fails("bug")
    assert caught.value.message.startswith("unexpected error (KeyError: 'k'); the terminal")
    assert "Traceback" in capsys.readouterr().err  # the details go to the terminal
    stream = streams()
    assert next(stream) == 1
    with pytest.raises(gr.Error, match="stopped: lower the weights"):
        next(stream)


def test_the_loss_figure_draws_each_logged_name_as_one_line():
    pytest.importorskip("gradio", reason="the ui extra is not installed")
    pytest.importorskip("matplotlib", reason="the ui extra is not installed")
    from gst_core.ui.app import loss_figure

    points = [
        (1.0, "loss_g", 2.0),
        (1.0, "loss_d", 1.5),
        (2.0, "loss_g", 1.0),
        (3.0, "loss_g", 0.5),
    ]
    (axes,) = loss_figure(points).axes
    lines = {line.get_label(): line.get_xydata().tolist() for line in axes.get_lines()}
    assert lines == {"loss_g": [[1, 2], [2, 1], [3, 0.5]], "loss_d": [[1, 1.5]]}
    assert loss_figure([]) is None


@pytest.mark.skipif(
    importlib.util.find_spec("gradio") is None,
    reason="the ui extra is not installed (pip install 'gst-toolkit[ui]')",
)
def test_sigterm_stops_the_server_with_status_143_and_removes_its_folder(runs_root, tmp_path):
    """As every other command: a line, no traceback, 143, and nothing left behind."""
    from .server import Server, wait_for_server

    server = Server(runs_root, tmp_path)
    try:
        wait_for_server(server.url, server.process, server.log)
        workspace = server.workspace()
        assert workspace.is_dir()
    finally:
        status = server.stop()  # SIGTERM, as systemd and Kubernetes send
    log = server.log.read_text()
    assert status == 143, log
    assert "gst: terminated (SIGTERM)" in log and "Traceback" not in log
    assert not workspace.exists() and list(server.cwd.iterdir()) == []
