"""Turning a response into the value a caller gets, or into the error they see."""

from __future__ import annotations

from ._errors import PostStackError
from ._narrow import as_mapping
from ._retry_after import parse_retry_after

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing at run time

if TYPE_CHECKING:
    from typing import Any

    from ._messages import Response
    from ._operation import ResponseKind

INVALID_RESPONSE = "invalid_response"


# The standard phrases (as http.HTTPStatus has them, without importing its enum), not
# the server's: HTTP/2 has none, proxies vary, and every transport must give the same text.
_PHRASES = {
    100: "Continue",
    101: "Switching Protocols",
    102: "Processing",
    103: "Early Hints",
    200: "OK",
    201: "Created",
    202: "Accepted",
    203: "Non-Authoritative Information",
    204: "No Content",
    205: "Reset Content",
    206: "Partial Content",
    207: "Multi-Status",
    208: "Already Reported",
    226: "IM Used",
    300: "Multiple Choices",
    301: "Moved Permanently",
    302: "Found",
    303: "See Other",
    304: "Not Modified",
    305: "Use Proxy",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    409: "Conflict",
    410: "Gone",
    411: "Length Required",
    412: "Precondition Failed",
    413: "Request Entity Too Large",
    414: "Request-URI Too Long",
    415: "Unsupported Media Type",
    416: "Requested Range Not Satisfiable",
    417: "Expectation Failed",
    418: "I'm a Teapot",
    421: "Misdirected Request",
    422: "Unprocessable Entity",
    423: "Locked",
    424: "Failed Dependency",
    425: "Too Early",
    426: "Upgrade Required",
    428: "Precondition Required",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    451: "Unavailable For Legal Reasons",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    505: "HTTP Version Not Supported",
    506: "Variant Also Negotiates",
    507: "Insufficient Storage",
    508: "Loop Detected",
    510: "Not Extended",
    511: "Network Authentication Required",
}


def reason_phrase(status: int) -> str | None:
    return _PHRASES.get(status)


def _charset(response: Response) -> str:
    content_type = response.header("content-type") or ""
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip('"')
    return "utf-8"


def _invalid(response: Response, why: str) -> PostStackError:
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

    A bodyless success is None. A JSON endpoint's body must be a JSON object:
    an HTML page from a proxy, truncated JSON or a bare string is never handed
    back under a type that promises a dict.
    """
    body = response.body
    if response.status == 204 or (not body and kind == "json"):
        return None
    if kind == "bytes":
        return body
    if kind == "text":
        try:
            return body.decode(_charset(response))
        except (UnicodeDecodeError, LookupError):
            raise _invalid(response, "text that is not in its declared encoding") from None
    import json  # imported on first use (it brings ``re``); a no-op lookup after that

    try:
        if body[:1] == b"{" and body[1:2] != b"\x00":
            # What json.loads(bytes) would decide (UTF-8: no BOM, no NUL in the first
            # two bytes), without its encoding guesswork on every response.
            value = json.loads(body.decode("utf-8", "surrogatepass"))
        else:
            value = json.loads(body)
    except (ValueError, RecursionError):
        raise _invalid(response, "a body that is not JSON") from None
    if as_mapping(value) is None:
        raise _invalid(response, f"JSON {type(value).__name__}, not an object")
    return value


def error_from_response(response: Response, now: float) -> PostStackError:
    """The PostStackError for a non-2xx response (the spec's error mapping)."""
    headers = response.header_dict()
    error: object = None
    code: object = None
    if response.body:
        import json

        try:
            payload = json.loads(response.body)
        except (ValueError, RecursionError):
            payload = None
        fields = as_mapping(payload)
        if fields is not None:
            error = fields.get("error")
            code = fields.get("code")
    if not isinstance(error, str) or not error:
        error = reason_phrase(response.status) or "Unknown error"
    return PostStackError(
        response.status,
        error,
        code if isinstance(code, str) else None,
        headers.get("x-request-id"),
        headers,
        parse_retry_after(headers.get("retry-after"), now),
    )
