"""A tiny GAN config for the reliability tests (8 px, width 4: milliseconds per step)."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).parent.parent / "gan" / "fixtures"


def write_config(folder: Path, **replace: str) -> Path:
    """The gst 0.1 fixture config with ``old=new`` text replacements, written to run.toml."""
    text = (FIXTURES / "gan_v0_1.toml").read_text()
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    path = folder / "run.toml"
    path.write_text(text)
    return path
