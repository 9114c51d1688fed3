"""Items 6 and 7: what a kill leaves in a run folder is cleaned up when the run resumes."""

from __future__ import annotations

import json
import os

from gst_core.atomic_file import atomic_write
from gst_core.cli import main

from .helpers import write_config


def _killed_during_writes(target, times: int) -> None:
    """Processes killed (os._exit) inside atomic_write, as by kill -9 mid-checkpoint."""
    for _ in range(times):
        pid = os.fork()
        if pid == 0:  # the child: no Python cleanup runs after os._exit, as after SIGKILL
            with atomic_write(target) as f:
                f.write(b"half a checkpoint")
                os._exit(9)
        assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 9


def test_temporary_files_of_killed_writes_are_removed_when_the_run_starts_again(tmp_path):
    config = write_config(tmp_path)
    run = tmp_path / "run"
    assert main(["train", "gan", "-c", str(config), "--run-dir", str(run), "--steps", "1"]) == 0
    checkpoints = run / "checkpoints"
    _killed_during_writes(checkpoints / "last.pt", 3)
    (checkpoints / ".notes.txt").write_text("the user's own hidden file")
    assert len([p for p in checkpoints.iterdir() if p.name.endswith(".tmp")]) == 3
    assert main(["train", "gan", "--resume", str(run), "--steps", "2"]) == 0
    assert sorted(p.name for p in checkpoints.iterdir()) == [".notes.txt", "last.pt"]


def test_metrics_logged_after_the_last_checkpoint_are_not_kept_twice(tmp_path):
    config = write_config(tmp_path, **{"checkpoint_every = 3": "checkpoint_every = 2"})
    run = tmp_path / "run"
    args = ["train", "gan", "-c", str(config), "--run-dir", str(run), "--log-every", "1"]
    assert main([*args, "--steps", "2"]) == 0
    metrics = run / "metrics.jsonl"
    # What a kill at step 3, after its line was logged and before the next checkpoint, leaves.
    with metrics.open("a") as f:
        f.write(json.dumps({"step": 3, "seconds": 0.1, "d_loss": 1.0}) + "\n")
        f.write('{"step": 4, "seco')
    assert main(["train", "gan", "--resume", str(run), "--steps", "4"]) == 0
    steps = [json.loads(line)["step"] for line in metrics.read_text().splitlines()]
    assert steps == [1, 2, 3, 4]
