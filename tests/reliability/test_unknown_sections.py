"""Issue 19, item 3: a TOML or --set section nobody reads is an error with "did you mean"."""

from __future__ import annotations

import pytest

from gst_core.cli import main

from .helpers import write_config


@pytest.mark.parametrize(
    ("replace", "named"),
    [
        (
            {"[train]": "[objectve]\npool_size = 3\n[train]"},
            "[objectve] (did you mean [objective]?)",
        ),
        (
            {"[loss]": "[genrator]\nname = 'dcgan'\n[loss]"},
            "[genrator] (did you mean [generator]?)",
        ),
    ],
)
def test_a_misspelt_toml_section_is_named_with_the_closest(tmp_path, capsys, replace, named):
    config = write_config(tmp_path, **replace)
    run = tmp_path / "run"
    assert main(["train", "gan", "-c", str(config), "--run-dir", str(run)]) == 2
    err = capsys.readouterr().err
    assert named in err and "would be ignored" in err and str(config) in err
    assert not run.exists()


def test_a_misspelt_train_section_is_named(tmp_path, capsys):
    config = write_config(tmp_path, **{"[train]": "[trian]"})
    assert main(["train", "gan", "-c", str(config)]) == 2
    assert "[trian] (did you mean [train]?)" in capsys.readouterr().err


def test_a_set_section_nobody_reads_is_named(tmp_path, capsys):
    config = write_config(tmp_path)
    run = tmp_path / "run"
    args = ["train", "gan", "-c", str(config), "--run-dir", str(run)]
    assert main([*args, "--set", "bogus.key=1"]) == 2
    assert "unknown section [bogus]" in capsys.readouterr().err
    assert main([*args, "--set", "objectiv.n_critic=2"]) == 2
    assert "[objectiv] (did you mean [objective]?)" in capsys.readouterr().err


def test_cyclegan_misspelt_generator_does_not_fall_back_silently(tmp_path, capsys):
    toml = tmp_path / "c.toml"
    toml.write_text(
        '[genrator]\nname = "resnet"\n[data]\nname = "unpaired_shapes"\nimage_size = 8\n'
        "[train]\nsteps = 1\nbatch_size = 1\nprogress = false\n"
    )
    assert main(["train", "cyclegan", "-c", str(toml), "--run-dir", str(tmp_path / "r")]) == 2
    assert "[genrator] (did you mean [generator]?)" in capsys.readouterr().err


def test_every_section_of_the_examples_is_read(tmp_path):
    """The shipped configs have no section the check would refuse (their sections are read)."""
    from pathlib import Path

    from gst_core.config import load_toml
    from gst_core.training.build import build_objective
    from gst_core.training.sections import ReadSections, check_sections_read

    examples = Path(__file__).parents[2] / "examples"
    checked = 0
    for path in sorted(examples.glob("*.toml")):
        config = load_toml(path)
        objective = {"gan": "gan"}.get(path.stem, path.stem)
        if "data" not in config or objective not in _objectives():
            continue
        view = ReadSections(config)
        try:
            build_objective(objective, view, source=str(path))
        except Exception:  # noqa: BLE001 - a config needing files this test lacks
            continue
        check_sections_read(view, objective, str(path))
        checked += 1
    assert checked >= 1


def _objectives():
    from gst_core.kinds import registry

    return set(registry("objective").names())
