"""The version of this distribution: the one place it is written.

pyproject.toml reads it (``[tool.setuptools.dynamic]``), the User-Agent and
``poststack --version`` import it. It must stay above 0.9.0, the last release
of the SDK this one replaces under the same name on PyPI, so that no upgrade
ever falls back to it.
"""

__version__ = "1.0.0"
