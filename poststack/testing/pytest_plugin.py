"""pytest fixtures for code that sends email through PostStack.

Installed with poststack and registered through the ``pytest11`` entry point,
so the fixtures are available in every test with no ``conftest.py`` change:

- ``poststack_sandbox``: a started :class:`~poststack.testing.Sandbox` on a
  loopback port, stopped after the test.
- ``poststack_client``: a :class:`~poststack.PostStack` pointed at it (its key
  and base URL), closed after the test.
- ``poststack_inbox``: a :class:`~poststack.testing.SandboxInbox` for it: the
  inbox API (search, open an email, its HTML and attachments, bounce or
  complain, advance the clock, faults) and ``wait_for_message``.
- ``poststack_async_client``: an :class:`~poststack.AsyncPostStack` pointed at
  it. The fixture itself is synchronous, so no async pytest plugin is needed;
  open it inside your async test with ``async with poststack_async_client:``
  (or ``await poststack_async_client.aclose()`` at the end): an async client
  must be closed on the event loop that used it. Leaving it open fails the
  test with a clear message.

::

    def test_welcome_email(poststack_client, poststack_sandbox):
        signup("ada@example.com", client=poststack_client)
        (email,) = poststack_sandbox.wait_for_emails(1)
        assert email.to == ("ada@example.com",)

Configure the sandbox of one test with the ``poststack_sandbox`` marker; its
keyword arguments go to :class:`~poststack.testing.Sandbox`::

    @pytest.mark.poststack_sandbox(require_verified_domain=True)
    def test_unverified_domain_is_rejected(poststack_client): ...

Disable the plugin with ``-p no:poststack``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    # Imported inside the fixtures at run time: registering the plugin must stay cheap.
    from poststack import AsyncPostStack, PostStack

    from ._inbox_client import SandboxInbox
    from ._sandbox import Sandbox

__all__ = ["poststack_async_client", "poststack_client", "poststack_inbox", "poststack_sandbox"]

_MARKER = "poststack_sandbox"

# The clients' time limit for each attempt: generous for a loaded CI machine,
# short enough that a hung test fails well before a global timeout.
CLIENT_TIMEOUT = 30.0


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{_MARKER}(**options): keyword arguments for the poststack_sandbox fixture's "
        "Sandbox (api_key, require_verified_domain, verified_domains, ...)",
    )


@pytest.fixture
def poststack_sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """A started PostStack sandbox on a loopback port; stopped after the test."""
    options: dict[str, Any] = {}
    for marker in reversed(list(request.node.iter_markers(_MARKER))):
        if marker.args:
            raise pytest.UsageError(
                f"@pytest.mark.{_MARKER} takes keyword arguments only, got {marker.args!r}"
            )
        options.update(marker.kwargs)  # the closest marker (function over class) wins
    from ._sandbox import Sandbox

    with Sandbox(**options) as sandbox:
        yield sandbox


@pytest.fixture
def poststack_client(poststack_sandbox: Sandbox) -> Iterator[PostStack]:
    """A ``PostStack`` client for ``poststack_sandbox``; closed after the test."""
    from poststack import PostStack

    with PostStack(
        api_key=poststack_sandbox.api_key,
        base_url=poststack_sandbox.base_url,
        timeout=CLIENT_TIMEOUT,
    ) as client:
        yield client


@pytest.fixture
def poststack_inbox(poststack_sandbox: Sandbox) -> Iterator[SandboxInbox]:
    """The inbox API of ``poststack_sandbox`` (:class:`~poststack.testing.SandboxInbox`)."""
    from ._inbox_client import SandboxInbox

    with SandboxInbox(poststack_sandbox.base_url, timeout=CLIENT_TIMEOUT) as inbox:
        yield inbox


@pytest.fixture
def poststack_async_client(poststack_sandbox: Sandbox) -> Iterator[AsyncPostStack]:
    """An ``AsyncPostStack`` for ``poststack_sandbox``, not yet opened.

    Use it with ``async with poststack_async_client:`` inside the test (asyncio
    or trio), or ``await poststack_async_client.aclose()`` when done.
    """
    from poststack import AsyncPostStack

    client = AsyncPostStack(
        api_key=poststack_sandbox.api_key,
        base_url=poststack_sandbox.base_url,
        timeout=CLIENT_TIMEOUT,
    )
    yield client
    # A used client holds connections bound to the test's event loop; only
    # that loop can close them, so all a teardown can do is report the leak.
    if getattr(client, "_transport", None) is not None:
        pytest.fail(
            "poststack_async_client was used but not closed: wrap it in "
            "`async with poststack_async_client:` or await its aclose()",
            pytrace=False,
        )
