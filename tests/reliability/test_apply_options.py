"""Issue 19, items 8 and 13 (eval): options of translate, stylize --model and eval are
checked before any work, with the message about the option (not "checkpoint corrupt",
an AssertionError, or a traceback); eval's --json is never overwritten silently."""

from __future__ import annotations

import json

import pytest
import torch

from gst_core.cli import main
from gst_core.images import save_image
from tests.metrics.test_cli_eval import write_folder

from .test_wrong_objective import _write


@pytest.fixture(scope="module")
def pix2pix_run(tmp_path_factory):
    from tests.i2i.conftest import tiny_config

    folder = tmp_path_factory.mktemp("p2p")
    run = folder / "run"
    config = _write(folder / "p.toml", tiny_config("pix2pix", steps=1, run_dir=run))
    assert main(["train", "pix2pix", "-c", config]) == 0
    save_image(torch.rand(1, 3, 20, 24), folder / "in.png")
    return run, folder / "in.png"


no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")


@pytest.mark.parametrize(
    ("device", "said"),
    [
        pytest.param("cuda", "torch sees no CUDA GPU", marks=no_cuda),
        ("bogus", "is not a device"),
    ],
)
def test_translate_and_stylize_model_name_a_bad_device(pix2pix_run, tmp_path, capsys, device, said):
    run, image = pix2pix_run
    for argv in (
        ["translate", str(run), str(image), "-o", str(tmp_path / "t"), "--device", device],
        ["stylize", "--model", str(run), str(image), "-o", str(tmp_path / "s"), "--device", device],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert said in err and "--device" in err and "corrupt" not in err
    assert not (tmp_path / "t").exists() and not (tmp_path / "s").exists()


def test_translate_threads_zero_and_stylize_batch_size_zero_are_refused(
    pix2pix_run, tmp_path, capsys
):
    run, image = pix2pix_run
    assert (
        main(["translate", str(run), str(image), "-o", str(tmp_path / "t"), "--threads", "0"]) == 2
    )
    assert "--threads must be at least 1" in capsys.readouterr().err
    argv = ["stylize", "--model", str(run), str(image), "-o", str(tmp_path / "s")]
    assert main([*argv, "--batch-size", "0"]) == 2
    assert "--batch-size must be at least 1" in capsys.readouterr().err


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    base = tmp_path_factory.mktemp("eval")
    return write_folder(base / "real", 6, seed=0), write_folder(base / "fake", 6, seed=1)


def _eval(folders, *extra):
    real, fake = folders
    argv = ["eval", "fid", str(real), str(fake), "--extractor", "random_pool", "--no-progress"]
    return main([*argv, *extra])


@no_cuda
def test_eval_on_a_missing_gpu_is_an_option_error(folders, capsys):
    assert _eval(folders, "--device", "cuda") == 2
    assert "torch sees no CUDA GPU" in capsys.readouterr().err


def test_eval_refuses_to_overwrite_its_json_without_overwrite(folders, tmp_path, capsys):
    out = tmp_path / "fid.json"
    out.write_text('{"mine": 1}')
    assert _eval(folders, "--json", str(out)) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert json.loads(out.read_text()) == {"mine": 1}
    assert _eval(folders, "--json", str(out), "--overwrite") == 0
    assert json.loads(out.read_text())["metric"] == "fid"


def test_eval_json_into_a_folder_is_refused_before_the_features(folders, tmp_path, capsys):
    assert _eval(folders, "--json", str(tmp_path)) == 2
    printed = capsys.readouterr()
    assert "is a folder" in printed.err and "disk space" not in printed.err
    assert "gst eval: features" not in printed.out


def test_eval_warns_when_there_are_fewer_images_than_feature_dimensions(folders, capsys):
    assert _eval(folders) == 0
    err = capsys.readouterr().err
    assert "FID from 6 images of" in err and "covariances are singular" in err
