"""The pytest plugin, as a user gets it: through the ``pytest11`` entry point of the install.

``pytester.runpytest_subprocess`` starts a fresh ``python -m pytest`` in a
temporary directory with no conftest, so the fixtures can only come from the
installed distribution's entry point (``pip install -e .`` in the nox session).
"""

from __future__ import annotations

import sys
from importlib.metadata import entry_points

import pytest

pytest_plugins = ["pytester"]

TIMEOUT = 120.0

USER_TESTS = """
import asyncio

import pytest

from poststack import AsyncPostStack, PostStack, PostStackError
from poststack.testing import Sandbox

MESSAGE = {
    "from": "hello@yourdomain.com",
    "to": ["user@example.com"],
    "subject": "Hello",
    "text": "Hi!",
}


def test_sync_client(poststack_client, poststack_sandbox):
    assert isinstance(poststack_sandbox, Sandbox)
    assert isinstance(poststack_client, PostStack)
    assert poststack_client.base_url == poststack_sandbox.base_url
    sent = poststack_client.emails.send(MESSAGE)
    (email,) = poststack_sandbox.wait_for_emails(1)
    assert email.id == sent["id"]
    assert email.to == ("user@example.com",)


def test_the_inbox_fixture(poststack_client, poststack_inbox):
    from poststack.testing import SandboxInbox

    assert isinstance(poststack_inbox, SandboxInbox)
    sent = poststack_client.emails.send({**MESSAGE, "html": "<p>Hi</p>"})
    message = poststack_inbox.wait_for_message(to="user@example.com")
    assert message["id"] == sent["id"]
    assert poststack_inbox.html(sent["id"]) == "<p>Hi</p>"
    assert poststack_inbox.bounce(sent["id"])["status"] == "bounced"


def test_each_test_gets_a_fresh_sandbox(poststack_sandbox):
    assert poststack_sandbox.outbox == []
    assert poststack_sandbox.requests == []


def test_async_client_on_asyncio(poststack_async_client, poststack_sandbox):
    assert isinstance(poststack_async_client, AsyncPostStack)

    async def main():
        async with poststack_async_client as ps:
            return await ps.emails.send(MESSAGE)

    sent = asyncio.run(main())
    assert poststack_sandbox.outbox[0].id == sent["id"]


def test_async_client_closed_with_aclose(poststack_async_client, poststack_sandbox):
    async def main():
        try:
            await poststack_async_client.emails.send(MESSAGE)
        finally:
            await poststack_async_client.aclose()

    asyncio.run(main())
    assert len(poststack_sandbox.outbox) == 1


def test_unused_async_client_needs_no_closing(poststack_async_client):
    pass


@pytest.mark.poststack_sandbox(require_verified_domain=True, api_key="sk_test_custom")
def test_marker_configures_the_sandbox(poststack_client, poststack_sandbox):
    assert poststack_sandbox.api_key == "sk_test_custom"
    with pytest.raises(PostStackError) as info:
        poststack_client.emails.send(MESSAGE)
    assert info.value.status_code == 422
    assert poststack_client.emails.send({**MESSAGE, "from": "a@example.com"})["id"]


@pytest.mark.poststack_sandbox(api_key="sk_test_class")
class TestMarkerOnAClass:
    @pytest.mark.poststack_sandbox(api_key="sk_test_method")
    def test_the_closest_marker_wins(self, poststack_sandbox):
        assert poststack_sandbox.api_key == "sk_test_method"

    def test_the_class_marker_applies(self, poststack_sandbox):
        assert poststack_sandbox.api_key == "sk_test_class"
"""

LEAKY_TEST = """
import asyncio


def test_leaks_the_async_client(poststack_async_client):
    async def main():
        await poststack_async_client.emails.send(
            {"from": "a@example.com", "to": ["b@example.com"], "subject": "S", "text": "T"}
        )

    asyncio.run(main())
"""


def test_entry_points_are_installed() -> None:
    (plugin,) = [ep for ep in entry_points(group="pytest11") if ep.name == "poststack"]
    assert plugin.value == "poststack.testing.pytest_plugin"
    (script,) = [ep for ep in entry_points(group="console_scripts") if ep.name == "poststack"]
    assert script.value == "poststack.cli:main"


def test_fixtures_through_the_entry_point(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-W", "error", "--strict-markers", timeout=TIMEOUT
    )
    result.assert_outcomes(passed=9)


def test_an_async_client_left_open_is_reported(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_leaky=LEAKY_TEST)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=TIMEOUT)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*poststack_async_client was used but not closed*"])


def test_fixtures_are_listed_and_the_plugin_can_be_disabled(pytester: pytest.Pytester) -> None:
    listed = pytester.runpytest_subprocess("--fixtures", "-p", "no:cacheprovider", timeout=TIMEOUT)
    for name in (
        "poststack_sandbox",
        "poststack_client",
        "poststack_inbox",
        "poststack_async_client",
    ):
        listed.stdout.fnmatch_lines([f"{name} -- *pytest_plugin.py:*"])

    pytester.makepyfile(test_user="def test_it(poststack_sandbox):\n    pass\n")
    disabled = pytester.runpytest_subprocess(
        "-p", "no:poststack", "-p", "no:cacheprovider", timeout=TIMEOUT
    )
    disabled.assert_outcomes(errors=1)
    disabled.stdout.fnmatch_lines(["*fixture 'poststack_sandbox' not found*"])


def test_importing_poststack_testing_does_not_import_pytest() -> None:
    # Checked in a fresh interpreter: this one has pytest loaded already.
    import subprocess

    code = "import sys, poststack.testing; print('pytest' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT, check=True
    )
    assert done.stdout == "False\n"
