"""TypedDicts for payloads and responses: ``from poststack.types import SendEmailParams``."""

from poststack_core.types import *  # noqa: F403
from poststack_core.types import __all__ as __all__
