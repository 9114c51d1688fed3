"""Output paths are checked before the work starts: inputs, existing files, folders, formats."""

from __future__ import annotations

import os

import pytest

from gst_core.runtime.output_paths import OutputPathError, check_output_dir, check_output_file


def test_an_input_is_never_an_output_even_through_a_symlink(tmp_path):
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"x")
    (tmp_path / "link.png").symlink_to(photo)
    for name in ("photo.png", "link.png", "./photo.png"):
        with pytest.raises(OutputPathError, match="is also an input; gst never overwrites"):
            check_output_file(tmp_path / name, inputs=[photo], overwrite=True, image=True)


def test_existing_outputs_need_overwrite_and_symlinks_are_written_through(tmp_path):
    out, real = tmp_path / "out.png", tmp_path / "real.png"
    real.write_bytes(b"x")
    out.symlink_to(real)
    with pytest.raises(OutputPathError, match="already exists; pass --overwrite"):
        check_output_file(out, image=True)
    assert check_output_file(out, image=True, overwrite=True) == real.resolve()


@pytest.mark.parametrize(
    ("name", "message"),
    [("out.psd", "not an image format Pillow writes"), ("out.xyz", "'.xyz'"), ("", "is empty")],
)
def test_unwritable_image_names(tmp_path, name, message):
    with pytest.raises(OutputPathError, match=message):
        check_output_file(str(tmp_path / name) if name else "", image=True)


def test_folders_files_and_permissions(tmp_path):
    with pytest.raises(OutputPathError, match="is a folder; give a file name inside it"):
        check_output_file(tmp_path, image=True)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputPathError, match="is a file, not a folder"):
        check_output_dir(blocker)
    with pytest.raises(OutputPathError, match="is a file, not a folder"):
        check_output_file(blocker / "out.png", image=True)
    assert check_output_dir(tmp_path / "new" / "run") == (tmp_path / "new" / "run").resolve()
    with pytest.raises(OutputPathError, match="also an input folder"):
        check_output_dir(tmp_path, inputs=[tmp_path])
    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(OutputPathError, match="is not writable"):
            check_output_file(locked / "out.png", image=True)
