"""``gst ui``: a local web app (Gradio) over gst's Python API.

The handlers (``workspace``, ``uploads``, ``stylize``, ``translate``, ``sample``, ``runs``) are
plain Python over the API and never import Gradio, so they are tested without a browser; only
``app`` builds the page. Everything the app writes (uploads and results) goes into one
temporary folder, removed when the app stops.
"""
