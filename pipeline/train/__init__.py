"""Training for Tint's models: character generator, datasets, training loops (may read ../shared/data)."""
