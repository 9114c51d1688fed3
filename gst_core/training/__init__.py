"""Training: the trainer loop, objectives, EMA, callbacks and checkpoints."""
