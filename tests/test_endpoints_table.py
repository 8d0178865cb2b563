"""Every method of ``endpoints.json``, every recorded variant, on both clients.

For each record the sync and the async client must send exactly the recorded
request: verb, raw (percent-encoded) path, query pairs in order, body or no
body, JSON body, and an Idempotency-Key (a uuid4) exactly on POSTs. Variants
marked ``compare: false`` are included: they are where the official SDK
differs from the behaviour the spec requires, and we follow the spec.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import json
import re
from pathlib import Path
from typing import Any, get_origin, get_type_hints

import pytest

from poststack import AsyncPostStack, PostStack
from poststack.resources import Webhooks
from poststack_core import Request, Resource, bulk, endpoint, pages, planned
from poststack_core.endpoints import Resources

from .recording import async_client, body_of, load_endpoints, path_of, query_of, sync_client

RECORDS = load_endpoints()
HTTP = [record for record in RECORDS if record["kind"] == "http"]
CASES = [
    pytest.param(record, variant, id=f"{record['name']}[{variant['name']}]")
    for record in HTTP
    for variant in record["variants"]
]
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
RESULT_TYPES = {"json": dict, "text": str, "bytes": bytes}


def test_the_bundled_copy_of_the_spec_is_current() -> None:
    sibling = Path(__file__).resolve().parents[2] / "shared" / "spec" / "endpoints.json"
    if not sibling.is_file():
        pytest.skip("no shared/spec checkout next to the repository: the copy is the spec")
    bundled = Path(__file__).resolve().parent / "data" / "endpoints.json"
    assert json.loads(bundled.read_bytes()) == json.loads(sibling.read_bytes()), (
        "tests/data/endpoints.json is stale: copy ../shared/spec/endpoints.json over it"
    )


def _resource_classes() -> dict[str, type[Resource[Any]]]:
    return {name: get_origin(hint) for name, hint in get_type_hints(Resources).items()}


def test_the_clients_have_every_method_of_the_spec_and_no_other() -> None:
    # Counted from the spec, not by hand: a new endpoint needs only its definition.
    spec = {(record["resource"], record["method"]) for record in RECORDS}
    ours: set[tuple[str, str]] = set()
    for name, resource in _resource_classes().items():
        for attribute, value in vars(resource).items():
            if isinstance(value, (endpoint, staticmethod)):
                ours.add((name, attribute))
            elif isinstance(value, pages):
                # A walker goes through the pages of one of the spec's own list methods.
                assert (name, value.definition.__name__) in spec, attribute
            else:
                # Anything else public is a plan of several requests, or a bulk run
                # (emails.send_many and send_chunk).
                assert attribute.startswith("_") or isinstance(value, (planned, bulk)), attribute
    assert ours == spec
    assert set(_resource_classes()) == {record["resource"] for record in RECORDS}


def _call(
    client: PostStack | AsyncPostStack, record: dict[str, Any], variant: dict[str, Any]
) -> Any:
    method = getattr(getattr(client, record["resource"]), record["method"])
    call = copy.deepcopy(variant["call"])
    return method(*call["args"], **call["kwargs"])


def _assert_recorded(requests: list[Request], expected: dict[str, Any]) -> None:
    assert len(requests) == 1
    (request,) = requests
    assert request.method == expected["method"]
    assert path_of(request) == expected["raw_path"]
    assert query_of(request) == [tuple(pair) for pair in expected["query"]]
    if expected["body_present"]:
        assert request.body is not None
        assert body_of(request) == expected["body"]
        assert request.header("Content-Type") == "application/json"
    else:
        assert request.body is None
    key = request.header("Idempotency-Key")
    if expected["idempotency_key"]:
        assert key is not None
        assert UUID4.match(key), key
    else:
        assert key is None


@pytest.mark.parametrize(("record", "variant"), CASES)
def test_sync_client_sends_the_recorded_request(
    record: dict[str, Any], variant: dict[str, Any]
) -> None:
    client, recorder = sync_client()
    result = _call(client, record, variant)
    _assert_recorded(recorder.requests, variant["request"])
    assert isinstance(result, RESULT_TYPES[record["http"]["response"]])


@pytest.mark.parametrize(("record", "variant"), CASES)
def test_async_client_sends_the_recorded_request(
    record: dict[str, Any], variant: dict[str, Any]
) -> None:
    client, recorder = async_client()
    pending = _call(client, record, variant)
    assert inspect.iscoroutine(pending)
    result = asyncio.run(pending)
    _assert_recorded(recorder.requests, variant["request"])
    assert isinstance(result, RESULT_TYPES[record["http"]["response"]])


def test_text_is_never_parsed_as_json() -> None:
    client, _ = sync_client()
    assert client.contacts.export_csv() == "{}"


def _spec_params(record: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    return [
        (param["name"], param["kind"], None if param["required"] else param["default"])
        for param in record["signature"]["params"]
    ]


def _our_params(method: Any) -> list[tuple[str, str, str | None]]:
    empty = inspect.Parameter.empty
    return [
        (param.name, param.kind.name, None if param.default is empty else repr(param.default))
        for param in inspect.signature(method).parameters.values()
        if param.name != "idempotency_key"
    ]


@pytest.mark.parametrize("record", RECORDS, ids=[record["name"] for record in RECORDS])
@pytest.mark.parametrize("make", [sync_client, async_client], ids=["sync", "async"])
def test_signature_matches_the_spec(record: dict[str, Any], make: Any) -> None:
    client, _ = make()
    method = getattr(getattr(client, record["resource"]), record["method"])
    assert _our_params(method) == _spec_params(record)
    is_async = isinstance(client, AsyncPostStack) and record["kind"] == "http"
    assert inspect.iscoroutinefunction(method) == is_async


@pytest.mark.parametrize("record", HTTP, ids=[record["name"] for record in HTTP])
def test_idempotency_key_is_offered_exactly_on_posts(record: dict[str, Any]) -> None:
    client, _ = sync_client()
    method = getattr(getattr(client, record["resource"]), record["method"])
    parameters = inspect.signature(method).parameters
    assert ("idempotency_key" in parameters) == (record["http"]["verb"] == "POST")
    if record["http"]["verb"] == "POST":
        assert parameters["idempotency_key"].kind is inspect.Parameter.KEYWORD_ONLY


@pytest.mark.parametrize("make", [sync_client, async_client], ids=["sync", "async"])
def test_both_clients_have_exactly_the_spec_resources(make: Any) -> None:
    client, _ = make()
    resources = {name for name, value in vars(client).items() if isinstance(value, Resource)}
    assert resources == {record["resource"] for record in RECORDS}


def test_a_callers_idempotency_key_is_sent() -> None:
    client, recorder = sync_client()
    client.domains.verify(3, idempotency_key="my-key-1")
    assert recorder.requests[0].header("Idempotency-Key") == "my-key-1"


def test_two_calls_get_two_keys() -> None:
    client, recorder = sync_client()
    client.templates.publish("tpl_1")
    client.templates.publish("tpl_1")
    keys = {request.header("Idempotency-Key") for request in recorder.requests}
    assert len(keys) == 2


VERIFY = next(record for record in RECORDS if record["name"] == "webhooks.verify")


@pytest.mark.parametrize("variant", VERIFY["variants"], ids=lambda v: v["name"])
def test_webhook_verify_vectors(variant: dict[str, Any]) -> None:
    import poststack.webhooks

    args = variant["call"]["args"]
    expected = variant["result"]
    sync, _ = sync_client()
    asynchronous, _ = async_client()
    assert Webhooks.verify(*args) is expected
    assert sync.webhooks.verify(*args) is expected
    assert asynchronous.webhooks.verify(*args) is expected
    assert poststack.webhooks.verify(*args) is expected
    assert poststack.webhooks.verify(args[0].encode(), *args[1:]) is expected
