"""What `gst plugins list` and `gst plugins check` report.

Listing reads metadata only. Whether each component *loads* is found by
importing it; :func:`probe_in_subprocess` does that in a child interpreter so
the listing process itself imports no plugin module (and a plugin that
crashes the interpreter on import cannot take the listing down with it).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from gst_core.errors import GstError
from gst_core.kinds import KINDS
from gst_core.registry import Entry

__all__ = ["ComponentRow", "ProbeError", "check", "probe_in_subprocess", "rows"]


@dataclass
class ComponentRow:
    kind: str
    name: str
    distribution: str | None
    version: str | None
    target: str
    status: str  # ok | broken | conflict | not loaded | not checked
    error: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def _describe(exc: BaseException) -> str:
    """The error and the chain of causes under it, one line each."""
    parts = []
    seen: BaseException | None = exc
    while seen is not None:
        parts.append(f"{type(seen).__name__}: {seen}")
        seen = seen.__cause__
    return "\n  caused by ".join(parts)


def _entries(kind: str | None) -> list[Entry]:
    registries = [KINDS[kind]] if kind else list(KINDS.values())
    return [e for r in registries for e in r.entries()]


def rows(
    kind: str | None = None, errors: dict[tuple[str, str], BaseException] | None = None
) -> list[ComponentRow]:
    """One row per registered component (conflicting duplicates each get a row). Imports nothing.

    ``errors`` maps ``(kind, name)`` to the exception that using it raised.
    """
    errors = errors or {}
    out = []
    for e in _entries(kind):
        error = errors.get((e.kind, e.name), e.error)
        for same in [e, *e.conflicts_with]:
            out.append(
                ComponentRow(
                    kind=same.kind,
                    name=same.name,
                    distribution=same.distribution,
                    version=same.version,
                    target=same.target,
                    status=same.status,
                    error=_describe(error) if error else None,
                )
            )
    return out


def check(kind: str | None = None) -> list[ComponentRow]:
    """Import every component in this process, recording the failure of each that does not
    load. A plugin that hangs or ends the interpreter takes this process with it: the CLI
    uses :func:`probe_in_subprocess` instead."""
    errors = {}
    for e in _entries(kind):
        error = _load(e)
        if error is not None:
            errors[(e.kind, e.name)] = error
    return rows(kind, errors)


def _load(entry: Entry) -> BaseException | None:
    try:
        KINDS[entry.kind].get(entry.name)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # reported, not raised: one broken plugin must not hide others
        return exc
    return None


class ProbeError(GstError, RuntimeError):
    """The child interpreter that checks which components load did not report."""


#: Seconds one component may take to import in the load check (``--timeout``).
DEFAULT_TIMEOUT = 30.0
# Seconds the child may take to start (import gst_core and torch) before its first plugin.
_STARTUP_TIMEOUT = 120.0


def probe_in_subprocess(
    kind: str | None = None, timeout: float = DEFAULT_TIMEOUT
) -> dict[tuple[str, str], dict]:
    """Import every component in a child interpreter; ``{(kind, name): {"status", "error"}}``.

    The child reports each component as it starts and finishes it, so a plugin
    that hangs (longer than ``timeout`` seconds), calls ``os._exit`` or crashes
    the interpreter is named and marked broken, and a fresh child goes on with
    the others. The normal case is one child. Reports go to a file, not
    stdout, so a plugin that prints while imported cannot garble them.
    """
    results: dict[tuple[str, str], dict] = {}
    while True:
        culprit, reason = _run_child(kind, timeout, results)
        if culprit is None:
            return results
        results[culprit] = {"status": "broken", "error": reason}


def _run_child(
    kind: str | None, timeout: float, results: dict[tuple[str, str], dict]
) -> tuple[tuple[str, str] | None, str]:
    """One child over the components not in ``results`` (filled in place). Returns the
    component it stopped at and why, or ``(None, "")`` when it finished."""
    with tempfile.TemporaryDirectory(prefix="gst-probe-") as folder:
        report, errors = Path(folder) / "report.jsonl", Path(folder) / "stderr.txt"
        skip = json.dumps(sorted(results))
        cmd = [sys.executable, "-m", "gst_core.cli.plugin_report", str(report), kind or "", skip]
        with errors.open("wb") as stderr:
            child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            return _watch(child, report, errors, timeout, results)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()


def _watch(
    child: subprocess.Popen,
    report: Path,
    errors: Path,
    timeout: float,
    results: dict[tuple[str, str], dict],
) -> tuple[tuple[str, str] | None, str]:
    started = time.monotonic()
    current: tuple[str, str] | None = None
    offset = 0
    while True:
        exited = child.poll() is not None  # before reading: a line written before exit is seen
        lines, offset = _new_lines(report, offset)
        for event in lines:
            if "start" in event:
                current, started = tuple(event["start"]), time.monotonic()
            elif "done" in event:
                results[tuple(event["done"])] = {"status": event["status"], "error": event["error"]}
                current = None
            elif "end" in event:
                return None, ""
        if exited:
            code = child.returncode
            how = f"killed by signal {-code}" if code < 0 else f"exited with status {code}"
            if current is not None:
                return current, (
                    f"the interpreter {how} while importing it (os._exit, sys.exit outside "
                    "Python's reach, or a crash in native code)"
                )
            tail = errors.read_text(errors="replace").strip().splitlines()[-5:]
            raise ProbeError(
                f"the load check {how} before checking any plugin:\n  "
                + ("\n  ".join(tail) or "(no output)")
            )
        limit = timeout if current is not None else _STARTUP_TIMEOUT
        if time.monotonic() - started > limit:
            child.kill()
            child.wait()
            if current is None:
                raise ProbeError(f"the load check did not start within {limit:.0f} s")
            return current, (
                f"did not finish importing within {timeout:g} s (it hangs on import, or is "
                "slower than that: raise --timeout)"
            )
        time.sleep(0.02)


def _new_lines(report: Path, offset: int) -> tuple[list[dict], int]:
    """The complete JSON lines written to ``report`` after byte ``offset``."""
    try:
        with report.open("rb") as f:
            f.seek(offset)
            data = f.read()
    except FileNotFoundError:
        return [], offset
    complete = data[: data.rfind(b"\n") + 1]
    return [json.loads(line) for line in complete.splitlines() if line], offset + len(complete)


def _child_main(out_path: Path, only_kind: str | None, skip: set[tuple[str, str]]) -> None:
    with out_path.open("a") as out:

        def emit(event: dict) -> None:
            out.write(json.dumps(event) + "\n")
            out.flush()

        for entry in _entries(only_kind):
            key = (entry.kind, entry.name)
            if key in skip:
                continue
            emit({"start": key})
            error = _load(entry)
            status = (
                KINDS[entry.kind].entry(entry.name).status
                if error is None
                else ("conflict" if entry.conflicts_with else "broken")
            )
            emit({"done": key, "status": status, "error": _describe(error) if error else None})
        emit({"end": True})


if __name__ == "__main__":
    # python -m gst_core.cli.plugin_report REPORT.jsonl [KIND] [SKIP-JSON]
    _child_main(
        Path(sys.argv[1]),
        (sys.argv[2] or None) if len(sys.argv) > 2 else None,
        {tuple(k) for k in json.loads(sys.argv[3])} if len(sys.argv) > 3 else set(),
    )
