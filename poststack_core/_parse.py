"""Turning a response into the value a caller gets, or into the error they see."""

from __future__ import annotations

import json
from typing import Any

from ._errors import PostStackError
from ._messages import Response
from ._narrow import as_mapping
from ._operation import ResponseKind
from ._retry_after import parse_retry_after
from ._retry_policy import DEFAULT_POLICY, RetryPolicy

INVALID_RESPONSE = "invalid_response"

_DECODER = json.JSONDecoder()


def loads_json(body: bytes) -> Any:
    """``json.loads(body)``: the same value or error, in a quarter of its time for UTF-8.

    A body that decodes as UTF-8 to one JSON value, with nothing but JSON
    whitespace after it, is read in one pass. Anything else (a BOM, UTF-16
    or UTF-32, leading whitespace, or no JSON at all) goes to ``json.loads``,
    which detects the encoding and raises the error.
    """
    try:
        text = body.decode("utf-8")
        value, end = _DECODER.raw_decode(text)
        if end == len(text) or not text[end:].strip(" \t\n\r"):
            return value
    except ValueError:
        pass
    return json.loads(body)


def reason_phrase(status: int) -> str | None:
    """The standard reason phrase of ``status`` (``"Bad Gateway"``), or None if it has none.

    The standard one, not the server's: HTTP/2 has none, proxies vary, and
    every transport must give the same text.
    """
    # Only an error answer without a message needs it; building the HTTPStatus enum
    # costs more than a millisecond of every import of the core.
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return None


def _charset(response: Response) -> str:
    content_type = response.header("content-type") or ""
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip('"')
    return "utf-8"


def invalid_response(response: Response, why: str) -> PostStackError:
    """The error for a 2xx response that is not what the endpoint promised: ``why`` says how."""
    headers = response.header_dict()
    return PostStackError(
        response.status,
        f"The API answered {response.status} with {why}",
        INVALID_RESPONSE,
        headers.get("x-request-id"),
        headers,
    )


def parse_success(kind: ResponseKind, response: Response) -> Any:
    """The value of a 2xx response, or a PostStackError(code="invalid_response").

    A JSON endpoint promises a JSON object, and gets one or this error: an
    empty body (a 204 included), an HTML page from a proxy, truncated JSON or
    a bare string is never handed back under a type that promises a dict.
    Every endpoint of the API promises content, so none answers None. Text
    is decoded with its declared charset, bytes come back as they are.
    """
    body = response.body
    if kind == "bytes":
        return body
    if kind == "text":
        try:
            return body.decode(_charset(response))
        except (UnicodeDecodeError, LookupError):
            raise invalid_response(response, "text that is not in its declared encoding") from None
    if not body:
        raise invalid_response(response, "no body, where a JSON object was promised")
    try:
        value = loads_json(body)
    except (ValueError, RecursionError):
        raise invalid_response(response, "a body that is not JSON") from None
    if as_mapping(value) is None:
        raise invalid_response(response, f"JSON {type(value).__name__}, not an object")
    return value


def error_from_response(
    response: Response, now: float, *, policy: RetryPolicy = DEFAULT_POLICY
) -> PostStackError:
    """The PostStackError for a non-2xx response (the spec's error mapping).

    ``now`` (seconds since the epoch) resolves an HTTP-date ``Retry-After``;
    ``policy`` answers the error's ``retryable`` and ``is_quota``.
    """
    headers = response.header_dict()
    error: object = None
    code: object = None
    if response.body:
        try:
            payload = loads_json(response.body)
        except (ValueError, RecursionError):
            payload = None
        fields = as_mapping(payload)
        if fields is not None:
            error = fields.get("error")
            code = fields.get("code")
    if not isinstance(error, str) or not error:
        error = reason_phrase(response.status) or "Unknown error"
    code = code if isinstance(code, str) else None
    retry_after = parse_retry_after(headers.get("retry-after"), now)
    return PostStackError(
        response.status,
        error,
        code,
        headers.get("x-request-id"),
        headers,
        retry_after,
        retryable=policy.is_retryable(response.status, code, retry_after),
        is_quota=policy.is_quota(response.status, code, retry_after),
    )
