"""What every command shares: exit statuses, the two command errors, building a client."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from poststack import Pacing, PostStack

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class CommandError(Exception):
    """The command cannot do its job; ``main`` prints ``error: <message>`` and exits 1."""

    exit_status = EXIT_FAILURE


class UsageError(CommandError):
    """The command line or its inputs are wrong (missing key, unreadable file): exit 2."""

    exit_status = EXIT_USAGE


def api_key_from(args: argparse.Namespace) -> str:
    """``--api-key``, else ``$POSTSTACK_API_KEY``; a clear usage error when neither is set."""
    key: str | None = args.api_key or os.environ.get("POSTSTACK_API_KEY") or None
    if key is None:
        raise UsageError(
            "no API key: pass --api-key or set POSTSTACK_API_KEY "
            "(or try `poststack send --sandbox ...` against a local sandbox, no key needed)"
        )
    return key


def client_from(
    args: argparse.Namespace,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    pacing: Pacing | None = None,
) -> PostStack:
    """A ``PostStack`` configured from the global options (or the given key, URL, pacing)."""
    from poststack import PostStack

    key = api_key if api_key is not None else api_key_from(args)
    url = base_url if base_url is not None else args.base_url
    # Options not given on the command line keep the client's own defaults.
    options: dict[str, Any] = {}
    if args.timeout is not None:
        options["timeout"] = args.timeout
    if args.max_retries is not None:
        options["max_retries"] = args.max_retries
    if pacing is not None:
        options["pacing"] = pacing
    try:
        return PostStack(api_key=key, base_url=url, **options)
    except (TypeError, ValueError) as exc:
        # A malformed key or base URL: the SDK's message already says what is wrong.
        raise UsageError(str(exc)) from None


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
