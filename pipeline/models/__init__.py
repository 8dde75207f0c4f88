"""Tint's models: definitions, safetensors save/load and the adapters the pipeline calls."""
