"""gst's built-in components.

Nothing here is imported by gst_core: every component is registered through
this distribution's entry points (pyproject.toml), exactly as a third-party
plugin's would be, and imported only when first used.
"""
