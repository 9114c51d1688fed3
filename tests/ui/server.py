"""`gst ui` in a child process, for the tests that drive it from outside."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_server(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gst ui exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"gst ui did not answer at {url}:\n{log.read_text()}")


class Server:
    """`gst ui` in a child process, started in an empty folder of its own."""

    def __init__(self, runs_root: Path, folder: Path) -> None:
        self.cwd = folder / "cwd"
        self.cwd.mkdir()
        self.log = folder / "server.log"
        port = free_port()
        self.url = f"http://127.0.0.1:{port}/"
        env = {**os.environ, "OMP_NUM_THREADS": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gst_core.cli",
                    "ui",
                    "--port",
                    str(port),
                    "--runs",
                    str(runs_root),
                    "--device",
                    "cpu",
                    "--threads",
                    "1",
                ],  # fmt: skip
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.cwd,
                env=env,
            )

    def workspace(self) -> Path:
        """The temporary folder the app said it keeps uploads and results in."""
        line = next(x for x in self.log.read_text().splitlines() if "uploads and results in" in x)
        return Path(line.rsplit(" in ", 1)[1])

    def stop(self) -> int | None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.returncode
