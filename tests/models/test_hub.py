"""Hub support: the offline cache path, pushing (mocked at huggingface_hub's boundary), and a
one-line message naming the hub extra when huggingface_hub is missing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

import gst_core
from gst_core.apply.hub import HubError
from gst_core.cli import main

pytest.importorskip("huggingface_hub", reason="the hub extra is not installed")


def test_load_pretrained_from_the_offline_cache(published, tmp_path):
    repo = tmp_path / "hf" / "hub" / "models--alice--tiny-gan"
    snapshot = repo / "snapshots" / "0123abcd"
    shutil.copytree(published["gan"], snapshot)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123abcd")
    code = textwrap.dedent(
        """
        import gst_core
        nets = gst_core.load_pretrained("alice/tiny-gan")
        print(sorted(nets), nets.where)
        try:
            gst_core.load_pretrained("alice/not-cached")
        except gst_core.GstError as exc:
            print("ERROR", exc)
        """
    )
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert f"['generator'] {snapshot}" in done.stdout
    assert "ERROR 'alice/not-cached'" in done.stdout and "HF_HUB_OFFLINE is set" in done.stdout


def test_push_to_hub_uploads_the_folder(trained_runs, tmp_path, monkeypatch):
    import huggingface_hub

    calls = []

    class FakeApi:
        def create_repo(self, repo_id, private=False, exist_ok=False):
            calls.append(("create", repo_id, private, exist_ok))

        def upload_folder(self, folder_path, repo_id):
            calls.append(("upload", sorted(p.name for p in os.scandir(folder_path)), repo_id))

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    out = tmp_path / "m"
    assert (
        main(["publish", str(trained_runs["gan"]), "-o", str(out), "--push-to-hub", "bob/gan"]) == 0
    )
    assert calls == [
        ("create", "bob/gan", False, True),
        ("upload", ["README.md", "config.json", "model.safetensors", "sample.png"], "bob/gan"),
    ]


def test_without_huggingface_hub_a_one_line_message_names_the_extra(
    trained_runs, published, tmp_path, monkeypatch, capsys
):
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)  # makes the import fail
    out = tmp_path / "m"
    assert main(["publish", str(trained_runs["gan"]), "-o", str(out), "--push-to-hub", "b/g"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "pip install 'gst-toolkit[hub]'" in err
    assert not out.exists()  # named before any work
    with pytest.raises(HubError, match=r"gst-toolkit\[hub\]"):
        gst_core.load_pretrained("alice/tiny-gan")
    assert set(gst_core.load_pretrained(published["gan"])) == {"generator"}  # local still works
