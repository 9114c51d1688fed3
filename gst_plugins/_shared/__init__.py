"""What several built-in plugins share (blocks, norms, weight init): private to gst_plugins."""
