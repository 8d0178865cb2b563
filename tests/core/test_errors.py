"""PostStackError: how it reads, what it carries for callers, and that it survives pickling."""

from __future__ import annotations

import pickle
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from poststack_core import (
    PostStackConnectionError,
    PostStackError,
    PostStackTimeoutError,
    RetryPolicy,
)

from .helpers import error_for, response

QUOTA_CODES = RetryPolicy().quota_codes


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (
            PostStackError(422, "Invalid email address in 'from'", "validation_error", "req_7"),
            "422 validation_error: Invalid email address in 'from' (request req_7)",
        ),
        (PostStackError(502, "Bad Gateway"), "502: Bad Gateway"),
        (PostStackError(404, "Not found", request_id="req_1"), "404: Not found (request req_1)"),
        (
            PostStackConnectionError(0, "could not connect for GET https://x", "connect_error"),
            "connect_error: could not connect for GET https://x",
        ),
        (PostStackError(0, "no response"), "no response"),
    ],
)
def test_str_leads_with_status_and_code_and_ends_with_the_request_id(
    error: PostStackError, text: str
) -> None:
    assert str(error) == text


def test_the_bare_message_stays_in_error_for_callers_who_format_their_own() -> None:
    e = PostStackError(422, "Invalid email address", "validation_error", "req_1")
    assert f"API error {e.status_code}: {e.error}" == "API error 422: Invalid email address"
    assert e.args == ("Invalid email address",)


def test_tracebacks_name_the_public_module() -> None:
    code = "import poststack\nraise poststack.PostStackError(409, 'Exists', 'conflict', 'req_2')"
    result = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "poststack.PostStackError: 409 conflict: Exists (request req_2)"
    )


@pytest.mark.parametrize("cls", [PostStackError, PostStackConnectionError, PostStackTimeoutError])
def test_every_field_survives_pickling(cls: type[PostStackError]) -> None:
    error = cls(429, "slow", "rate_limit_exceeded", "req_1", {"retry-after": "3"}, 3.0)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is cls
    assert vars(copy) == vars(error)
    assert str(copy) == str(error)
    marked = cls(400, "x", retryable=True, is_quota=True)
    assert (pickle.loads(pickle.dumps(marked)).retryable, marked.is_quota) == (True, True)


# -- retryable and is_quota: the policy's answers, carried by the error -------------------


@pytest.mark.parametrize(
    ("status", "code", "retry_after", "retryable", "is_quota"),
    [
        (0, "connect_error", None, True, False),  # no response at all
        (200, "invalid_response", None, True, False),  # a garbled success
        (500, "internal_error", None, True, False),
        (503, None, 120.0, True, False),  # above the cap: not retried now, but later
        (408, None, None, True, False),
        (429, None, None, True, False),  # a proxy's bare 429
        (429, "rate_limit_exceeded", 2.0, True, False),
        (429, "rate_limit_exceeded", None, False, True),  # a monthly quota in disguise
        (429, "quota_exceeded", 5.0, False, True),
        (400, "invalid_request", None, False, False),
        (401, "unauthorized", None, False, False),
        (404, "not_found", None, False, False),
        (422, "unprocessable_entity", None, False, False),
        (301, None, None, False, False),
    ],
)
def test_default_classification(
    status: int, code: str | None, retry_after: float | None, retryable: bool, is_quota: bool
) -> None:
    error = PostStackError(status, "x", code, retry_after=retry_after)
    assert (error.retryable, error.is_quota) == (retryable, is_quota)


statuses = st.one_of(
    st.sampled_from([0, 200, 301, 400, 404, 408, 409, 422, 429]), st.integers(500, 599)
)
codes = st.sampled_from([None, "rate_limit_exceeded", "internal_error", "x", *sorted(QUOTA_CODES)])
retry_afters = st.one_of(st.none(), st.floats(0, 1e6))


@given(statuses, codes, retry_afters)
def test_classification_is_the_policys(
    status: int, code: str | None, retry_after: float | None
) -> None:
    policy = RetryPolicy()
    error = PostStackError(status, "x", code, retry_after=retry_after)
    assert error.is_quota == policy.is_quota(status, code, retry_after)
    assert error.retryable == policy.is_retryable(status, code, retry_after)
    # A quota is never worth retrying, and only a 429 is a quota.
    assert not (error.is_quota and error.retryable)
    assert not error.is_quota or status == 429


def test_the_calls_own_policy_judges_its_errors() -> None:
    strict = RetryPolicy(quota_codes=frozenset({"rate_limit_exceeded"}))
    r = response(429, {"error": "slow", "code": "rate_limit_exceeded"}, [("Retry-After", "1")])
    assert error_for(r).retryable is True
    judged = error_for(r, policy=strict)
    assert (judged.retryable, judged.is_quota) == (False, True)
