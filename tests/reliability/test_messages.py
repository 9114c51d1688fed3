"""Issue 19, item 13: messages that misled now say what is wrong."""

from __future__ import annotations

import pytest
import torch

from gst_core.checkpoint import load_checkpoint
from gst_core.cli import main
from gst_core.errors import ComponentArgumentError
from gst_core.images import save_image
from gst_core.kinds import datasets, losses

from .helpers import write_config
from .test_wrong_objective import _cyclegan_run


def test_an_option_for_a_component_without_options_shows_it_takes_none():
    with pytest.raises(ComponentArgumentError, match=r"Its signature is hinge\(\)$"):
        losses.build({"name": "hinge", "bogus": 1})


def test_it_still_takes_none_after_torch_compile_wrapped_module_init(monkeypatch):
    # torch._dynamo replaces nn.Module.__init__ by a wrapper the first time a model is
    # compiled (mutation_guard.install_generation_tagging_init); seen after --compile tests.
    init = torch.nn.Module.__init__

    def patched_init(self, *args, **kwargs):
        init(self, *args, **kwargs)

    monkeypatch.setattr(torch.nn.Module, "__init__", patched_init)
    with pytest.raises(ComponentArgumentError, match=r"Its signature is hinge\(\)$"):
        losses.build({"name": "hinge", "bogus": 1})


def test_a_number_given_as_text_is_named_as_text():
    with pytest.raises(
        ComponentArgumentError,
        match="image_size must be an integer, but is the string '8': write numbers without quotes",
    ):
        datasets.build({"name": "shapes", "image_size": "8"})


def test_an_optimizer_option_given_as_text_is_named(tmp_path, capsys):
    config = write_config(tmp_path)
    argv = ["train", "gan", "-c", str(config), "--run-dir", str(tmp_path / "r")]
    assert main([*argv, "--set", 'train.optimizer.weight_decay="x"']) == 2
    err = capsys.readouterr().err
    assert "weight_decay must be a number, got 'x' (str)" in err and "not supported" not in err


def test_resume_with_another_optimizer_class_names_the_classes(tmp_path, capsys):
    config = write_config(tmp_path)
    run = tmp_path / "run"
    assert main(["train", "gan", "-c", str(config), "--run-dir", str(run), "--steps", "1"]) == 0
    capsys.readouterr()
    argv = ["train", "gan", "--resume", str(run), "--steps", "2"]
    assert main([*argv, "--set", "train.optimizer.name=SGD"]) == 2
    err = capsys.readouterr().err
    assert "trained with the Adam optimizer" in err and "builds SGD" in err and "betas" not in err


def test_resume_to_fewer_steps_than_done_is_refused_and_keeps_the_checkpoint(tmp_path, capsys):
    config = write_config(tmp_path)
    run = tmp_path / "run"
    assert main(["train", "gan", "-c", str(config), "--run-dir", str(run), "--steps", "3"]) == 0
    before = (run / "checkpoints" / "last.pt").read_bytes()
    capsys.readouterr()
    assert main(["train", "gan", "--resume", str(run), "--steps", "2"]) == 2
    err = capsys.readouterr().err
    assert "is at step 3 and this run stops at step 2" in err and "--steps" in err
    assert (run / "checkpoints" / "last.pt").read_bytes() == before
    assert load_checkpoint(run)["step"] == 3


@pytest.fixture(scope="module")
def cyclegan(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cyc")
    run = _cyclegan_run(folder)
    image = save_image(torch.rand(1, 3, 12, 16), folder / "in.png")
    return run, image


def test_translate_with_an_impossible_size_says_the_size(cyclegan, tmp_path, capsys):
    run, image = cyclegan
    argv = ["translate", str(run), str(image), "-o", str(tmp_path / "o"), "--size", "100000"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "size 100000 is too large" in err and "unreadable" not in err


def test_cyclegan_translate_says_which_direction_it_took(cyclegan, tmp_path, capsys):
    run, image = cyclegan
    assert main(["translate", str(run), str(image), "-o", str(tmp_path / "o")]) == 0
    assert "using A → B (g_ab), the default: pass --direction b2a" in capsys.readouterr().err
    argv = ["translate", str(run), str(image), "-o", str(tmp_path / "p"), "--direction", "b2a"]
    assert main(argv) == 0
    assert "the default" not in capsys.readouterr().err


def test_cyclegan_export_says_which_direction_it_took(cyclegan, tmp_path, capsys):
    pytest.importorskip("onnxscript", reason="gst export needs the onnx extra")
    run, _ = cyclegan
    argv = ["export", str(run), "-o", str(tmp_path / "g.onnx"), "--no-compare"]
    assert main(argv) == 0
    assert "using A → B (g_ab), the default" in capsys.readouterr().err
