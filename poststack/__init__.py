"""poststack: the Python SDK for the PostStack transactional email API.

>>> from poststack import PostStack
>>> ps = PostStack(api_key="sk_live_...")  # or $POSTSTACK_API_KEY
>>> ps.emails.send({"from": "hello@yourdomain.com", "to": ["user@example.com"],
...                 "subject": "Hello", "html": "<h1>Welcome!</h1>"})["id"]
"""

from types import GenericAlias

from poststack_core import (
    Attempt,
    EmailResult,
    JournalError,
    Pacing,
    PostStackConnectionError,
    PostStackError,
    PostStackTimeoutError,
    Progress,
    RateLimit,
    RawResponse,
    RunChangedError,
    SendManyError,
    SendManyResult,
    WebhookPayloadError,
    WebhookVerificationError,
)

from . import webhooks
from ._client import AsyncPostStack, PostStack
from ._guard import EventLoopBlockingWarning
from ._hooks import AsyncEventHooks, AsyncHook, EventHooks, Hook, HookEvent
from ._version import __version__

__all__ = [
    "AsyncEventHooks",
    "AsyncHook",
    "AsyncPostStack",
    "Attempt",
    "EmailResult",
    "EventHooks",
    "EventLoopBlockingWarning",
    "Hook",
    "HookEvent",
    "JournalError",
    "Pacing",
    "PostStack",
    "PostStackConnectionError",
    "PostStackError",
    "PostStackTimeoutError",
    "Progress",
    "RateLimit",
    "RawResponse",
    "RunChangedError",
    "SendManyError",
    "SendManyResult",
    "WebhookPayloadError",
    "WebhookVerificationError",
    "__version__",
    "webhooks",
]


def _show_public_module() -> None:
    # The classes callers import from here show this module in tracebacks and reprs
    # ("poststack.PostStackError: 422 ..."), whichever layer defines them; pickles
    # name it too, and it re-exports every one of them.
    for name in __all__:
        public = globals()[name]
        # Type aliases (Hook) are left alone: Python 3.10 counts a Callable[...] as a type.
        if isinstance(public, type) and not isinstance(public, GenericAlias):
            public.__module__ = __name__


_show_public_module()
del _show_public_module
