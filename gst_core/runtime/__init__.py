"""Checks every command runs before its work: output paths, option values (machinery)."""
