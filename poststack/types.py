"""TypedDicts for payloads and responses: ``from poststack.types import SendEmailParams``.

The same names as :mod:`poststack_core.types`, which defines them.
"""

from poststack_core.types import *  # noqa: F403
