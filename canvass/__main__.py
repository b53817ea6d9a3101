"""``python -m canvass`` runs the command-line interface."""

from __future__ import annotations

from .cli import cli

if __name__ == "__main__":  # pragma: no cover
    cli()
