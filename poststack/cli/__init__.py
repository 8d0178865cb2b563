"""The ``poststack`` command line (console script, and ``python -m poststack``).

``import poststack`` never loads this package: only the console script and
``python -m poststack`` do. Run ``poststack --help`` for the commands.
"""

from ._main import build_parser, main

__all__ = ["build_parser", "main"]
