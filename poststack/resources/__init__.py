"""The resource classes (``Emails``, ``Domains`` ...): ``ps.emails`` is an ``Emails[Sync]``.

Each is defined, with its endpoints, in ``poststack_core.endpoints``; this
module re-exports them for annotations (``emails: Emails[Sync]``, or
``Emails[Async]`` on an ``AsyncPostStack``; ``Emails[RawSync]`` and
``Emails[RawAsync]`` through ``with_raw_response``) and for what needs no
client, such as ``Webhooks.verify``.
"""

from poststack_core import Async, RawAsync, RawSync, Sync, endpoints
from poststack_core.endpoints import *  # noqa: F403

__all__ = ["Async", "RawAsync", "RawSync", "Sync"]
__all__ += endpoints.__all__
