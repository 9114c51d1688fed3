"""Built-in training methods (objectives)."""
