"""``python -m poststack``: the same as the ``poststack`` console script."""

from poststack.cli import main

raise SystemExit(main())
