"""Which top-level sections of a training config an objective reads, so that a misspelt one
(``[objectve]``, ``[genrator]``, ``--set bogus.key=1``) is an error, not silently ignored.

Objectives read their own sections (``from_config``), so the trainer cannot list them in
advance; it hands the objective a mapping that records every key asked for (looked up,
tested with ``in``, or iterated over), and any section nobody asked for is named with the
closest one that was.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Any

from gst_core.errors import TrainingSetupError
from gst_core.kinds import KINDS

__all__ = ["ReadSections", "check_sections_read"]

#: The sections the trainer itself reads.
TRAINER_SECTIONS = ("data", "train")


class ReadSections(Mapping[str, Any]):
    """A read-only view of a config that records the keys asked for."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self._config = config
        self.asked: set[str] = set()

    def __getitem__(self, key: str) -> Any:
        self.asked.add(key)
        return self._config[key]

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self.asked.add(key)
        return key in self._config

    def __iter__(self) -> Iterator[str]:
        # An objective that walks every section may use any of them: all count as read.
        self.asked.update(self._config)
        return iter(self._config)

    def __len__(self) -> int:
        return len(self._config)


def check_sections_read(view: ReadSections, objective: str, source: str) -> None:
    """Raise TrainingSetupError naming each section that neither objective nor trainer reads."""
    known = view.asked | set(TRAINER_SECTIONS)
    unknown = sorted(set(view._config) - known)
    if not unknown:
        return
    candidates = sorted(known | set(KINDS) | {"objective"})
    parts = []
    for name in unknown:
        close = difflib.get_close_matches(name, candidates, n=1)
        parts.append(f"[{name}]" + (f" (did you mean [{close[0]}]?)" if close else ""))
    read = sorted((view.asked & set(view._config)) - set(TRAINER_SECTIONS))
    raise TrainingSetupError(
        f"{source}: unknown section{'s' if len(unknown) > 1 else ''} {', '.join(parts)}; the "
        f"{objective} objective and the trainer do not read it, so its settings would be "
        f"ignored (this config's sections that are read: "
        f"{', '.join(f'[{s}]' for s in [*read, *TRAINER_SECTIONS])})"
    )
