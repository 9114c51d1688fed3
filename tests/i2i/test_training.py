"""pix2pix and CycleGAN training: exact resume, schedules in checkpoints, previews, CLI."""

from __future__ import annotations

import tomllib

import pytest
import torch
from PIL import Image

from gst_core.checkpoint import load_checkpoint
from gst_core.cli import main
from gst_core.training import Callback
from gst_core.training.build import build_trainer

from .conftest import tiny_config


class StopAt(Callback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, trainer, step, metrics) -> None:
        trainer.should_stop = step >= self.step


def _everything(trainer) -> dict[str, torch.Tensor]:
    state = {
        f"{n}.{k}": v for n, net in trainer.networks.items() for k, v in net.state_dict().items()
    }
    for group, opt in trainer.optimizers.items():
        for i, s in enumerate(opt.state_dict()["state"].values()):
            state.update({f"opt.{group}.{i}.{k}": v for k, v in s.items() if torch.is_tensor(v)})
    for name, pool in getattr(trainer.objective, "__dict__", {}).items():
        if name.startswith("pool_"):
            for i, image in enumerate(pool.images):
                state[f"{name}.{i}"] = image
            state[f"{name}.rng"] = pool.generator.get_state()
    return state


@pytest.mark.parametrize("objective", ["pix2pix", "cyclegan"])
def test_resume_3_plus_3_is_bit_identical_to_6(objective, tmp_path):
    extra = {"lr_schedule": {"name": "linear", "decay_steps": 4}, "ema_decay": 0.5}
    straight = build_trainer(tiny_config(objective, steps=6, **extra), objective).fit()

    first = build_trainer(
        tiny_config(objective, steps=6, run_dir=tmp_path / "a", **extra), objective
    )
    first.callbacks.append(StopAt(3))  # an interrupted 6-step run: the schedule spans 6 steps
    first.fit()
    assert first.step == 3
    resumed = build_trainer(
        tiny_config(objective, steps=6, run_dir=tmp_path / "b", **extra), objective
    )
    resumed.fit(resume=tmp_path / "a")
    a, b = _everything(straight), _everything(resumed)
    assert a.keys() == b.keys()
    if objective == "cyclegan":
        assert any(k.startswith("pool_a.") for k in a)  # the pools took part
    for key in a:
        assert torch.equal(a[key], b[key]), key
    for name in straight.ema:
        for p, q in zip(
            straight.ema[name].parameters(), resumed.ema[name].parameters(), strict=True
        ):
            assert torch.equal(p, q)
    lrs = [g["lr"] for o in resumed.optimizers.values() for g in o.param_groups]
    assert lrs == [0.0] * len(lrs)  # linear decay reached zero at the last step


def test_a_checkpoint_without_schedule_state_resumes_at_a_constant_rate(tmp_path):
    trainer = build_trainer(tiny_config("pix2pix", steps=2, run_dir=tmp_path / "a"), "pix2pix")
    trainer.fit()
    state = load_checkpoint(tmp_path / "a")
    del state["schedulers"]  # as written before schedules existed
    again = build_trainer(tiny_config("pix2pix", steps=3), "pix2pix")
    again.load_state_dict(state)
    again.fit()
    assert again.step == 3
    assert all(g["lr"] == 2e-4 for o in again.optimizers.values() for g in o.param_groups)


def test_previews_are_input_output_target_rows(tmp_path):
    trainer = build_trainer(tiny_config("pix2pix", steps=1), "pix2pix")
    images, nrow = trainer.preview(6)
    assert nrow == 3 and images.shape == (6, 3, 32, 32)
    a, b = trainer.objective._preview
    assert torch.equal(images[0], a[0]) and torch.equal(images[2], b[0])
    trainer = build_trainer(tiny_config("cyclegan", steps=1), "cyclegan")
    images, nrow = trainer.preview(12)
    assert nrow == 3 and images.shape == (12, 3, 16, 16)  # 2 rows A|G(A)|F(G(A)), 2 rows B|...


def test_cyclegan_identity_needs_equal_channels():
    config = tiny_config("cyclegan")
    config["generator"]["out_channels"] = 1
    with pytest.raises(Exception, match="identity_weight = 0"):
        build_trainer(config, "cyclegan")


def _toml(config: dict) -> str:
    lines = []
    for section, table in config.items():
        lines.append(f"[{section}]")
        for key, value in table.items():
            if isinstance(value, dict):
                inner = ", ".join(f"{k} = {_value(v)}" for k, v in value.items())
                lines.append(f"{key} = {{{inner}}}")
            else:
                lines.append(f"{key} = {_value(value)}")
    text = "\n".join(lines) + "\n"
    tomllib.loads(text)
    return text


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    return repr(v)


@pytest.mark.parametrize("objective", ["pix2pix", "cyclegan"])
def test_cli_train_then_translate(objective, tmp_path, capsys):
    run_dir = tmp_path / "run"
    config = tiny_config(objective, steps=2, run_dir=run_dir, sample_every=1)
    (tmp_path / "run.toml").write_text(_toml(config))
    assert main(["train", objective, "--config", str(tmp_path / "run.toml")]) == 0
    assert (run_dir / "checkpoints" / "last.pt").is_file()
    grids = sorted((run_dir / "samples").glob("*.png"))
    assert [g.name for g in grids] == ["step_0000001.png", "step_0000002.png"]
    Image.new("RGB", (45, 19), "red").save(tmp_path / "odd.png")
    out = tmp_path / "out"
    direction = ["--direction", "b2a"] if objective == "cyclegan" else []
    assert (
        main(["translate", str(run_dir), str(tmp_path / "odd.png"), "-o", str(out), *direction])
        == 0
    )
    with Image.open(out / "odd.png") as result:
        assert result.size == (45, 19)
    assert "translated 1 image" in capsys.readouterr().out
    # `gst sample` draws from noise; for this checkpoint it points to gst translate instead.
    assert main(["sample", str(run_dir), "-o", str(tmp_path / "grid.png")]) == 2
    err = capsys.readouterr().err
    assert f"is a '{objective}' checkpoint whose generator maps images to images" in err
    assert f"gst translate {run_dir} IMAGE... -o OUTDIR" in err


def test_stylize_model_and_export_take_both_cyclegan_directions(tmp_path, capsys):
    """`gst stylize --model` and `gst export` use the same loader as `gst translate`."""
    run_dir = tmp_path / "run"
    config = tiny_config("cyclegan", steps=1, run_dir=run_dir)
    (tmp_path / "run.toml").write_text(_toml(config))
    assert main(["train", "cyclegan", "--config", str(tmp_path / "run.toml")]) == 0
    Image.new("RGB", (21, 13), "blue").save(tmp_path / "in.png")
    out = tmp_path / "styled"
    assert main(["stylize", "--model", str(run_dir), str(tmp_path / "in.png"), "-o", str(out)]) == 0
    with Image.open(out / "in.png") as result:
        assert result.size == (21, 13)
    pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
    onnx_file = tmp_path / "g_ba.onnx"
    args = ["export", str(run_dir), "-o", str(onnx_file), "--direction", "b2a"]
    assert main(args) == 0, capsys.readouterr().err
    assert onnx_file.stat().st_size > 0


def test_previews_keep_fewer_rows_of_large_images():
    # One forward pass per row: 8 rows at 128² and below, 2 at 256² (the fixed cost of a
    # short run), never more than asked for or held.
    from gst_plugins.objectives._i2i import preview_rows

    assert [preview_rows(torch.zeros(8, 3, s, s), 21) for s in (32, 128, 181, 256, 512)] == [
        8,
        8,
        4,
        2,
        2,
    ]
    assert preview_rows(torch.zeros(8, 3, 32, 32), 3) == 3
    assert preview_rows(torch.zeros(1, 3, 256, 256), 21) == 1
    assert preview_rows(torch.zeros(8, 3, 32, 32), 0) == 1
