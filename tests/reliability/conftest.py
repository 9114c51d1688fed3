"""Fixtures for the reliability tests: one torch thread, tiny runs."""

from __future__ import annotations
