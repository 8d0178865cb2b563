from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from poststack_core import PostStackError
from poststack_core._parse import loads_json

from .helpers import error_for, outcome, response


def test_json_object() -> None:
    assert outcome("json", response(200, {"id": "em_1", "new": [1]})) == {
        "id": "em_1",
        "new": [1],
    }


def test_json_with_a_text_content_type_is_still_parsed() -> None:
    r = response(200, raw=b'{"a": 1}', headers=[("Content-Type", "text/plain")])
    assert outcome("json", r) == {"a": 1}


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_a_json_endpoint_never_answers_none(status: int) -> None:
    # emails.send answering an empty 200 used to return None typed as SendEmailResponse.
    r = response(status, headers=[("x-request-id", "req_3")])
    with pytest.raises(PostStackError) as info:
        outcome("json", r)
    assert (info.value.status_code, info.value.code) == (status, "invalid_response")
    assert (
        info.value.error
        == f"The API answered {status} with no body, where a JSON object was promised"
    )
    assert info.value.request_id == "req_3"
    assert info.value.retryable  # sent again later (same key), it may well succeed


@pytest.mark.parametrize("status", [200, 204])
def test_empty_text_and_bytes_are_empty_values(status: int) -> None:
    assert outcome("text", response(status)) == ""
    assert outcome("bytes", response(status)) == b""


@pytest.mark.parametrize(
    "raw",
    [
        b"<html><body>502 Bad Gateway</body></html>",
        b'{"id": "em_1"',  # truncated
        b'"hello"',  # valid JSON, but not the object the endpoint promises
        b"[1, 2]",
        b"null",
        b"\xff\xfe\x00garbage",
        b"[" * 100_000,  # deep nesting must not crash the parser
    ],
)
def test_2xx_that_is_not_a_json_object_is_invalid_response(raw: bytes) -> None:
    r = response(200, raw=raw, headers=[("x-request-id", "req_9")])
    with pytest.raises(PostStackError) as info:
        outcome("json", r)
    assert info.value.status_code == 200
    assert info.value.code == "invalid_response"
    assert info.value.request_id == "req_9"


def test_text_is_decoded_with_its_charset_and_never_parsed() -> None:
    csv = "email,name\nzoë@example.com,Zoë\n"
    r = response(
        200, raw=csv.encode("latin-1"), headers=[("Content-Type", "text/csv; charset=ISO-8859-1")]
    )
    assert outcome("text", r) == csv
    assert outcome("text", response(200, raw=b'{"a": 1}')) == '{"a": 1}'


def test_text_in_the_wrong_encoding_is_invalid_response() -> None:
    with pytest.raises(PostStackError) as info:
        outcome("text", response(200, raw=b"\xff\xfe"))
    assert info.value.code == "invalid_response"


def test_bytes_come_back_untouched() -> None:
    data = bytes(range(256))
    assert outcome("bytes", response(200, raw=data)) == data


def test_error_with_json_error_and_code() -> None:
    r = response(
        422,
        {"error": "Domain not verified", "code": "unprocessable_entity"},
        [
            ("X-Request-Id", "req_P"),
            ("x-ratelimit-limit", "10"),
            ("Content-Type", "application/json"),
        ],
    )
    e = error_for(r)
    assert (e.status_code, e.error, e.code, e.request_id, e.retry_after) == (
        422,
        "Domain not verified",
        "unprocessable_entity",
        "req_P",
        None,
    )
    assert e.headers["x-ratelimit-limit"] == "10"
    assert str(e) == "422 unprocessable_entity: Domain not verified (request req_P)"
    assert (e.retryable, e.is_quota) == (False, False)


@pytest.mark.parametrize(
    ("status", "raw", "error"),
    [
        (502, b"<html>Bad Gateway</html>", "Bad Gateway"),
        (401, b"", "Unauthorized"),
        (400, b"[1, 2]", "Bad Request"),
        (404, b'{"error": "Not found"}', "Not found"),
        (404, b'{"error": 5, "code": 7}', "Not Found"),
        (599, b"", "Unknown error"),
    ],
)
def test_error_fallbacks(status: int, raw: bytes, error: str) -> None:
    e = error_for(response(status, raw=raw))
    assert e.status_code == status
    assert e.error == error
    assert e.code is None


def test_error_carries_retry_after_and_joins_repeated_headers() -> None:
    r = response(
        429, {"code": "rate_limit_exceeded"}, [("Retry-After", "7"), ("Via", "a"), ("via", "b")]
    )
    e = error_for(r)
    assert e.retry_after == 7.0
    assert e.headers["via"] == "a, b"


# --- loads_json: json.loads, faster for UTF-8 ------------------------------------------

_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
_ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le"]


def _same_as_json_loads(body: bytes) -> None:
    try:
        expected = json.loads(body)
    except ValueError as exc:
        with pytest.raises(type(exc)):
            loads_json(body)
    else:
        assert loads_json(body) == expected


@given(
    _JSON_VALUES,
    st.sampled_from(_ENCODINGS),
    st.booleans(),
    st.text(" \t\n\r", max_size=3),
    st.text(" \t\n\r", max_size=3),
    st.text(max_size=3),
)
def test_loads_json_gives_what_json_loads_gives(
    value: object, encoding: str, ascii_only: bool, before: str, after: str, extra: str
) -> None:
    text = before + json.dumps(value, ensure_ascii=ascii_only) + after
    for candidate in (text, text + extra):
        try:
            body = candidate.encode(encoding)
        except UnicodeEncodeError:  # a lone surrogate from st.text()
            continue
        _same_as_json_loads(body)


@given(st.binary(max_size=24))
def test_loads_json_on_any_bytes_gives_what_json_loads_gives(body: bytes) -> None:
    _same_as_json_loads(body)


@pytest.mark.parametrize(
    "body",
    [
        b'\xef\xbb\xbf{"a":1}',  # a UTF-8 byte order mark
        b'{\x00"\x00a\x00"\x00:\x001\x00}\x00',  # UTF-16-LE
        b"5\x00",
        b' {"a":1}',
        b"{}x",
        b'"\xff"',  # not UTF-8: json.loads refuses these two
        b'{"name":"Ren\xe9"}',
    ],
)
def test_loads_json_on_the_encodings_utf8_does_not_read(body: bytes) -> None:
    _same_as_json_loads(body)
