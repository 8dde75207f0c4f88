"""The styles a colorize job can have: `flat` (one color per region) and `shaded` (the model's shading
kept inside each region). Its own module, importing nothing, so front doors can check a style cheaply."""

__all__ = ["STYLES"]

STYLES = ("flat", "shaded")
