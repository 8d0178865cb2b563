"""poststack.testing.Sandbox over real HTTP, with httpx as the client."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from poststack.testing import Fault, Sandbox, SandboxEmail

KEY = "sk_test_unit"


def message(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "from": "Acme <hello@yourdomain.com>",
        "to": ["alice@example.org"],
        "subject": "Hello",
        "html": "<p>Hi</p>",
    }
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not None}


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(KEY) as sandbox:
        yield sandbox


@pytest.fixture
def client(sb: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=sb.base_url, headers={"Authorization": f"Bearer {KEY}"}, timeout=5
    ) as c:
        yield c


def send(client: httpx.Client, **overrides: Any) -> str:
    response = client.post("/emails", json=message(**overrides))
    assert response.status_code == 202, response.text
    email_id: str = response.json()["id"]
    return email_id


# --- lifecycle and binding -------------------------------------------------------


def test_base_url_and_attributes() -> None:
    sandbox = Sandbox()
    assert sandbox.api_key == "sk_test_sandbox"
    with pytest.raises(RuntimeError):
        _ = sandbox.base_url
    with sandbox:
        assert sandbox.base_url == f"http://127.0.0.1:{sandbox.port}"
        assert sandbox.port > 0
        assert "running" in repr(sandbox)
    assert "stopped" in repr(sandbox)


def test_start_stop_explicitly_and_stop_is_idempotent() -> None:
    sandbox = Sandbox().start()
    try:
        assert httpx.get(f"{sandbox.base_url}/emails").status_code == 401
    finally:
        sandbox.stop()
    sandbox.stop()
    with pytest.raises(RuntimeError):
        sandbox.start()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com", "::", ""])
def test_non_loopback_host_is_refused(host: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        Sandbox(host=host)


def test_localhost_binds_ipv4_loopback() -> None:
    with Sandbox(host="localhost") as sandbox:
        assert sandbox.base_url.startswith("http://127.0.0.1:")


def test_ipv6_loopback() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        sandbox = Sandbox(host="::1").start()
    except OSError:
        pytest.skip("IPv6 loopback unavailable")
    try:
        assert sandbox.base_url == f"http://[::1]:{sandbox.port}"
        response = httpx.get(f"{sandbox.base_url}/emails", headers={"Authorization": "Bearer x"})
        assert response.status_code == 401
    finally:
        sandbox.stop()


def test_fixed_port() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with Sandbox(port=port) as sandbox:
        assert sandbox.base_url == f"http://127.0.0.1:{port}"


def test_stop_is_fast_with_idle_keepalive_connections(sb: Sandbox) -> None:
    clients = [
        httpx.Client(base_url=sb.base_url, headers={"Authorization": f"Bearer {KEY}"})
        for _ in range(5)
    ]
    try:
        for c in clients:
            assert c.get("/emails").status_code == 200  # leaves a kept-alive connection
        started = time.monotonic()
        sb.stop()
        assert time.monotonic() - started < 1.0
    finally:
        for c in clients:
            c.close()
    leftover = [t for t in threading.enumerate() if t.name.startswith("poststack-sandbox")]
    assert leftover == []


def test_stop_cuts_a_delay_short(sb: Sandbox) -> None:
    sb.faults.next(delay=30)
    errors: list[BaseException] = []

    def call() -> None:
        try:
            httpx.get(f"{sb.base_url}/emails", timeout=10)
        except httpx.TransportError as exc:
            errors.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    sb.wait_for_requests(1)
    started = time.monotonic()
    sb.stop()
    thread.join(5)
    assert time.monotonic() - started < 2.0
    assert not thread.is_alive()
    assert len(errors) == 1


# --- authentication, routing, request ids ---------------------------------------------


def test_missing_key_is_401(sb: Sandbox) -> None:
    response = httpx.post(f"{sb.base_url}/emails", json=message())
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    assert sb.outbox == []


@pytest.mark.parametrize("header", ["Bearer sk_test_wrong", "Basic abc", KEY, "Bearer"])
def test_wrong_key_is_401(sb: Sandbox, header: str) -> None:
    response = httpx.get(f"{sb.base_url}/emails", headers={"Authorization": header})
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "unauthorized"
    assert isinstance(body["error"], str)


def test_unknown_route_is_404_json(client: httpx.Client) -> None:
    response = client.get("/nope")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert client.get("/emails/").status_code == 404


def test_wrong_method_is_405_json(client: httpx.Client) -> None:
    response = client.delete("/emails")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert response.json()["code"] == "method_not_allowed"
    assert client.put("/webhooks/1").status_code == 405


def test_request_ids_are_unique(sb: Sandbox, client: httpx.Client) -> None:
    ids = {client.get("/emails").headers["x-request-id"] for _ in range(20)}
    ids.add(httpx.get(f"{sb.base_url}/nope").headers["x-request-id"])
    assert len(ids) == 21
    assert all(i.startswith("req_") for i in ids)
    assert [r.request_id for r in sb.requests[:20]] != []


def test_requests_are_recorded(sb: Sandbox, client: httpx.Client) -> None:
    client.post("/emails", json=message(), headers={"Idempotency-Key": "k1"})
    client.get("/emails", params={"page": "2", "tag": "a b"})
    first, second = sb.requests
    assert first.method == "POST"
    assert first.path == "/emails"
    assert first.headers["authorization"] == f"Bearer {KEY}"
    assert first.headers["content-type"] == "application/json"
    assert first.idempotency_key == "k1"
    assert first.json == message()
    assert first.body.startswith(b"{")
    assert first.fault is None
    assert second.query == (("page", "2"), ("tag", "a b"))
    assert second.params == {"page": "2", "tag": "a b"}
    assert second.target == "/emails?page=2&tag=a+b"
    assert second.body == b""
    assert second.json is None


def test_keep_alive_two_requests_on_one_socket(sb: Sandbox) -> None:
    request = (
        f"GET /emails HTTP/1.1\r\nHost: 127.0.0.1:{sb.port}\r\nAuthorization: Bearer {KEY}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", sb.port), timeout=5) as sock:
        sock.sendall(request + request)
        data = b""
        while data.count(b"HTTP/1.1 200") < 2:
            chunk = sock.recv(65536)
            assert chunk
            data += chunk
    assert len(sb.requests) == 2


def test_malformed_http_gets_400(sb: Sandbox) -> None:
    with socket.create_connection(("127.0.0.1", sb.port), timeout=5) as sock:
        sock.sendall(b"THIS IS NOT HTTP\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 400")
    assert b"invalid_request" in data


# --- sending -------------------------------------------------------------------------


def test_send_returns_202_and_fills_the_outbox(sb: Sandbox, client: httpx.Client) -> None:
    payload = message(
        cc="carol@example.org",
        bcc=["dave@example.org"],
        reply_to="support@yourdomain.com",
        text="Hi",
        tags=["welcome"],
        headers={"X-Campaign": "spring"},
        attachments=[{"filename": "a.txt", "content": "aGVsbG8=", "content_type": "text/plain"}],
    )
    response = client.post("/emails", json=payload)
    assert response.status_code == 202
    email_id = response.json()["id"]
    assert email_id.startswith("em_")
    (email,) = sb.wait_for_emails(1)
    assert isinstance(email, SandboxEmail)
    assert email.id == email_id
    assert email.from_ == "Acme <hello@yourdomain.com>"
    assert email.from_address == "hello@yourdomain.com"
    assert email.from_name == "Acme"
    assert email.to == ("alice@example.org",)
    assert email.cc == ("carol@example.org",)
    assert email.bcc == ("dave@example.org",)
    assert email.reply_to == "support@yourdomain.com"
    assert email.subject == "Hello"
    assert email.html == "<p>Hi</p>"
    assert email.text == "Hi"
    assert email.tags == ("welcome",)
    assert email.headers == {"X-Campaign": "spring"}
    assert email.attachments[0]["filename"] == "a.txt"
    assert email.status == "delivered"
    assert email.scheduled_at is None
    assert email.payload == payload


def test_get_email_has_the_api_shape(client: httpx.Client) -> None:
    email_id = send(client, cc=["c@example.org"], tags=["t"])
    response = client.get(f"/emails/{email_id}")
    assert response.status_code == 200
    email = response.json()["email"]
    assert isinstance(email["id"], int)
    assert email["publicId"] == email_id
    assert email["fromAddress"] == "hello@yourdomain.com"
    assert email["fromName"] == "Acme"
    assert email["toAddresses"] == ["alice@example.org"]
    assert email["ccAddresses"] == ["c@example.org"]
    assert email["bccAddresses"] == []
    assert email["subject"] == "Hello"
    assert email["status"] == "delivered"
    assert email["tags"] == ["t"]
    assert email["testMode"] is True
    assert email["scheduledAt"] is None
    assert email["createdAt"].endswith("Z")
    assert email["sentAt"].endswith("Z")
    assert [e["type"] for e in email["events"]] == ["queued", "sent", "delivered"]


def test_live_key_is_not_test_mode() -> None:
    with (
        Sandbox("sk_live_x") as sandbox,
        httpx.Client(base_url=sandbox.base_url, headers={"Authorization": "Bearer sk_live_x"}) as c,
    ):
        email_id = send(c)
        assert c.get(f"/emails/{email_id}").json()["email"]["testMode"] is False


def test_get_email_percent_encoded_id_and_404(client: httpx.Client) -> None:
    email_id = send(client)
    encoded = email_id.replace("_", "%5F")
    assert client.get(f"/emails/{encoded}").status_code == 200
    response = client.get("/emails/em_missing")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert client.get("/emails/batch").status_code == 404


def test_email_events(client: httpx.Client) -> None:
    email_id = send(client)
    events = client.get(f"/emails/{email_id}/events").json()["events"]
    assert [e["type"] for e in events] == ["queued", "sent", "delivered"]
    assert all(e["timestamp"].endswith("Z") for e in events)
    assert client.get("/emails/em_nope/events").status_code == 404


def test_to_as_a_string_and_template_without_subject(sb: Sandbox, client: httpx.Client) -> None:
    send(client, to="bob@example.org")
    template = client.post(
        "/templates",
        json={"name": "Hi", "subject": "Hi {{name}}", "html": "<p>Hello {{name}} & co</p>"},
    ).json()["template"]
    unpublished = client.post(
        "/emails", json=message(subject=None, html=None, template_id=template["publicId"])
    )
    assert unpublished.status_code == 422
    assert "not published" in unpublished.json()["error"]
    client.post(f"/templates/{template['publicId']}/publish")
    send(
        client, subject=None, html=None, template_id=template["publicId"], variables={"name": "<B>"}
    )
    first, second = sb.outbox
    assert first.to == ("bob@example.org",)
    assert second.template_id == template["publicId"]
    assert second.variables == {"name": "<B>"}
    assert second.subject == "Hi <B>"
    assert second.html == "<p>Hello &lt;B&gt; & co</p>"  # values are escaped in HTML
    unknown = client.post("/emails", json=message(subject=None, html=None, template_id="tpl_no"))
    assert unknown.status_code == 404
    assert unknown.json() == {"error": "Template not found", "code": "not_found"}


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (message(**{"from": None}), "from"),
        (message(to=None), "to"),
        (message(to=[]), "to"),
        (message(to=[1]), "to"),
        (message(subject=None), "subject"),
        (message(html=None), "html or text"),
        (message(tags="x"), "tags"),
        (message(headers={"a": 1}), "headers"),
        (message(scheduled_at="tomorrow"), "scheduled_at"),
        (message(attachments=[{"filename": "a"}]), "content"),
        (message(attachments=[{"filename": "a", "content": "!!"}]), "base64"),
        ([message()], "JSON object"),
    ],
)
def test_validation_errors_are_400(
    sb: Sandbox, client: httpx.Client, body: Any, fragment: str
) -> None:
    response = client.post("/emails", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"
    assert fragment in response.json()["error"]
    assert sb.outbox == []


def test_malformed_json_and_empty_body_are_400(client: httpx.Client) -> None:
    for content in (b"{not json", b"", b"null"):
        response = client.post(
            "/emails", content=content, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_request"


@pytest.mark.parametrize(
    "overrides",
    [{"from": "not-an-address"}, {"to": ["nobody"]}, {"cc": ["a@b"]}, {"to": ["x@y.z"] * 51}],
)
def test_unacceptable_addresses_are_422(client: httpx.Client, overrides: dict[str, Any]) -> None:
    response = client.post("/emails", json=message(**overrides))
    assert response.status_code == 422
    assert response.json()["code"] == "unprocessable_entity"


# --- batch -----------------------------------------------------------------------------


def test_batch(sb: Sandbox, client: httpx.Client) -> None:
    emails = [message(subject=f"n{i}") for i in range(3)]
    response = client.post("/emails/batch", json={"emails": emails})
    assert response.status_code == 202
    ids = [item["id"] for item in response.json()["data"]]
    assert len(set(ids)) == 3
    assert [e.id for e in sb.outbox] == ids
    assert [e.subject for e in sb.outbox] == ["n0", "n1", "n2"]


def test_batch_of_100_is_fine_and_101_is_422(sb: Sandbox, client: httpx.Client) -> None:
    assert client.post("/emails/batch", json={"emails": [message()] * 100}).status_code == 202
    response = client.post("/emails/batch", json={"emails": [message()] * 101})
    assert response.status_code == 422
    assert response.json()["code"] == "unprocessable_entity"
    assert len(sb.outbox) == 100


@pytest.mark.parametrize("body", [{"emails": []}, {}, {"emails": "x"}])
def test_batch_shape_errors_are_400(client: httpx.Client, body: dict[str, Any]) -> None:
    response = client.post("/emails/batch", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"


def test_batch_is_all_or_nothing(sb: Sandbox, client: httpx.Client) -> None:
    response = client.post("/emails/batch", json={"emails": [message(), message(subject=None)]})
    assert response.status_code == 400
    assert response.json()["error"].startswith("emails[1]: ")
    assert sb.outbox == []


# --- list ------------------------------------------------------------------------------


def test_list_paginates_newest_first(client: httpx.Client) -> None:
    ids = [send(client, subject=f"s{i}") for i in range(5)]
    body = client.get("/emails", params={"per_page": 2, "page": 2}).json()
    assert [e["publicId"] for e in body["emails"]] == [ids[2], ids[1]]
    assert body["pagination"] == {"total": 5, "page": 2, "per_page": 2, "total_pages": 3}
    default = client.get("/emails").json()["pagination"]
    assert default == {"total": 5, "page": 1, "per_page": 20, "total_pages": 1}
    capped = client.get("/emails", params={"per_page": 1000}).json()["pagination"]
    assert capped["per_page"] == 100
    assert client.get("/emails", params={"page": 0}).status_code == 400
    assert client.get("/emails", params={"per_page": "x"}).status_code == 400


def test_list_filters(sb: Sandbox, client: httpx.Client) -> None:
    a = send(client, to=["alice@example.org"], subject="Welcome aboard", tags=["onboarding"])
    b = send(client, **{"from": "news@other.com"}, to=["bob@example.org"], subject="News")
    c = send(client, to=["carol@example.org"], subject="Later", scheduled_at="2999-01-01T00:00:00Z")

    def ids(**params: Any) -> list[str]:
        response = client.get("/emails", params=params)
        assert response.status_code == 200, response.text
        return [e["publicId"] for e in response.json()["emails"]]

    assert ids() == [c, b, a]
    assert ids(to="ALICE") == [a]
    assert ids(**{"from": "other.com"}) == [b]
    assert ids(subject="welcome") == [a]
    assert ids(tag="onboarding") == [a]
    assert ids(status="scheduled") == [c]
    assert ids(status="delivered") == [b, a]
    assert ids(date_from="2000-01-01", date_to="2999-12-31T00:00:00Z") == [c, b, a]
    assert ids(date_to="2000-01-01") == []
    assert ids(provider="gmail", country="DE", device="mobile") == [c, b, a]
    assert client.get("/emails", params={"date_from": "soon"}).status_code == 400
    example = client.get("/domains").json()["domains"][0]
    d = send(client, **{"from": "x@mail.example.com"})
    assert ids(domain_id=example["id"]) == [d]


# --- scheduling ----------------------------------------------------------------------------


def test_cancel_and_reschedule(sb: Sandbox, client: httpx.Client) -> None:
    email_id = send(client, scheduled_at="2999-01-01T00:00:00Z")
    assert sb.outbox[0].status == "scheduled"
    assert sb.outbox[0].scheduled_at == "2999-01-01T00:00:00.000Z"

    response = client.patch(
        f"/emails/{email_id}", json={"scheduled_at": "2998-05-06T07:08:09+02:00"}
    )
    assert response.status_code == 200
    assert response.json()["email"]["scheduledAt"] == "2998-05-06T05:08:09.000Z"

    bad = client.patch(f"/emails/{email_id}", json={"scheduled_at": "not a date"})
    assert bad.status_code == 400
    assert client.patch(f"/emails/{email_id}", json={}).status_code == 400
    past = client.patch(f"/emails/{email_id}", json={"scheduled_at": "2001-01-01T00:00:00Z"})
    assert past.status_code == 422

    response = client.post(f"/emails/{email_id}/cancel")
    assert response.status_code == 200
    assert response.json()["email"]["status"] == "cancelled"
    assert sb.outbox[0].status == "cancelled"

    again = client.post(f"/emails/{email_id}/cancel")
    assert again.status_code == 409
    assert again.json()["code"] == "conflict"
    assert client.post("/emails/em_nope/cancel").status_code == 404


def test_cannot_cancel_or_reschedule_a_delivered_email(client: httpx.Client) -> None:
    email_id = send(client)
    assert client.post(f"/emails/{email_id}/cancel").status_code == 409
    response = client.patch(f"/emails/{email_id}", json={"scheduled_at": "2999-01-01T00:00:00Z"})
    assert response.status_code == 409


def test_scheduled_in_the_past_goes_out_at_once(sb: Sandbox, client: httpx.Client) -> None:
    send(client, scheduled_at="2001-01-01T00:00:00")
    assert sb.outbox[0].status == "delivered"


def test_release_scheduled(sb: Sandbox, client: httpx.Client) -> None:
    send(client, scheduled_at="2999-01-01T00:00:00Z")
    send(client)
    assert sb.release_scheduled() == 1
    assert [e.status for e in sb.outbox] == ["delivered", "delivered"]


# --- domains -------------------------------------------------------------------------------


def test_domains_crud_and_verify(client: httpx.Client) -> None:
    listed = client.get("/domains").json()["domains"]
    assert [d["name"] for d in listed] == ["example.com"]
    assert listed[0]["status"] == "verified"

    created = client.post("/domains", json={"name": "Mail.Acme.io", "region": "eu-west-1"})
    assert created.status_code == 201
    domain = created.json()["domain"]
    assert domain["name"] == "mail.acme.io"
    assert domain["status"] == "pending"
    assert domain["region"] == "eu-west-1"
    assert {r["purpose"] for r in domain["dnsRecords"]} >= {"spf", "dkim", "dmarc"}
    assert isinstance(domain["id"], int)

    assert client.post("/domains", json={"name": "mail.acme.io"}).status_code == 409
    assert client.post("/domains", json={}).status_code == 400
    assert client.post("/domains", json={"name": "not a domain"}).status_code == 422
    assert client.post("/domains", json={"name": "x.io", "region": "mars-1"}).status_code == 422

    fetched = client.get(f"/domains/{domain['id']}").json()["domain"]
    assert fetched == domain
    verified = client.post(f"/domains/{domain['id']}/verify").json()["domain"]
    assert verified["status"] == "verified"
    assert verified["verifiedAt"] is not None

    assert client.delete(f"/domains/{domain['id']}").status_code == 200
    assert client.get(f"/domains/{domain['id']}").status_code == 404
    assert client.get("/domains/abc").status_code == 404
    assert client.post("/domains/999/verify").status_code == 404


def test_verified_domain_required_when_asked() -> None:
    with (
        Sandbox(KEY, require_verified_domain=True) as sandbox,
        httpx.Client(base_url=sandbox.base_url, headers={"Authorization": f"Bearer {KEY}"}) as c,
    ):
        response = c.post("/emails", json=message())
        assert response.status_code == 422
        assert response.json() == {
            "error": "Domain not verified: yourdomain.com",
            "code": "unprocessable_entity",
        }
        # the default verified domain, and its subdomains, work
        assert c.post("/emails", json=message(**{"from": "a@example.com"})).status_code == 202
        assert c.post("/emails", json=message(**{"from": "a@mail.example.com"})).status_code == 202
        # a registered but pending domain does not
        domain = c.post("/domains", json={"name": "yourdomain.com"}).json()["domain"]
        assert c.post("/emails", json=message()).status_code == 422
        batch = c.post(
            "/emails/batch", json={"emails": [message(**{"from": "a@example.com"}), message()]}
        )
        assert batch.status_code == 422
        assert batch.json()["error"].startswith("emails[1]: ")
        c.post(f"/domains/{domain['id']}/verify")
        assert c.post("/emails", json=message()).status_code == 202
        assert len(sandbox.outbox) == 3


def test_add_domain_helper_and_no_default_domains() -> None:
    with Sandbox(verified_domains=(), require_verified_domain=True) as sandbox:
        domain = sandbox.add_domain("Acme.dev")
        assert domain["name"] == "acme.dev"
        assert domain["status"] == "verified"


# --- webhooks CRUD ----------------------------------------------------------------------------


def test_webhooks_crud(client: httpx.Client) -> None:
    created = client.post(
        "/webhooks", json={"url": "http://127.0.0.1:9/hook", "events": ["email.delivered"]}
    )
    assert created.status_code == 201
    body = created.json()
    webhook = body["webhook"]
    assert body["signingSecret"].startswith("whsec_")
    assert isinstance(webhook["id"], int)
    assert webhook["url"] == "http://127.0.0.1:9/hook"
    assert webhook["events"] == ["email.delivered"]
    assert webhook["active"] is True
    assert "signingSecret" not in webhook

    assert client.get("/webhooks").json() == {"webhooks": [webhook]}
    assert client.get(f"/webhooks/{webhook['id']}").json() == {"webhook": webhook}
    updated = client.patch(f"/webhooks/{webhook['id']}", json={"active": False})
    assert updated.json()["webhook"]["active"] is False
    assert client.delete(f"/webhooks/{webhook['id']}").status_code == 200
    assert client.get(f"/webhooks/{webhook['id']}").status_code == 404
    assert client.delete(f"/webhooks/{webhook['id']}").status_code == 404
    assert client.get("/webhooks/x").status_code == 404


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"events": ["email.sent"]}, 400),
        ({"url": "http://127.0.0.1/h"}, 400),
        ({"url": "http://127.0.0.1/h", "events": []}, 400),
        ({"url": "ftp://127.0.0.1/h", "events": ["email.sent"]}, 422),
        ({"url": "http://127.0.0.1/h", "events": ["email.exploded"]}, 422),
    ],
)
def test_webhook_validation(client: httpx.Client, body: dict[str, Any], status: int) -> None:
    assert client.post("/webhooks", json=body).status_code == status


# --- idempotency -------------------------------------------------------------------------------


def test_idempotency_header_replays_the_same_response(sb: Sandbox, client: httpx.Client) -> None:
    headers = {"Idempotency-Key": "key-1"}
    first = client.post("/emails", json=message(), headers=headers)
    second = client.post("/emails", json=message(), headers=headers)
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    assert len(sb.outbox) == 1
    # A different key is a different request.
    client.post("/emails", json=message(), headers={"Idempotency-Key": "key-2"})
    assert len(sb.outbox) == 2


def test_idempotency_header_with_a_different_body_is_409(sb: Sandbox, client: httpx.Client) -> None:
    headers = {"Idempotency-Key": "key-1"}
    client.post("/emails", json=message(), headers=headers)
    response = client.post("/emails", json=message(subject="Other"), headers=headers)
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert len(sb.outbox) == 1


def test_idempotency_failures_are_not_remembered(sb: Sandbox, client: httpx.Client) -> None:
    headers = {"Idempotency-Key": "key-1"}
    assert client.post("/emails", json=message(subject=None), headers=headers).status_code == 400
    assert client.post("/emails", json=message(), headers=headers).status_code == 202


def test_idempotency_header_on_batch_and_other_posts(sb: Sandbox, client: httpx.Client) -> None:
    headers = {"Idempotency-Key": "batch-1"}
    body = {"emails": [message(), message()]}
    first = client.post("/emails/batch", json=body, headers=headers)
    second = client.post("/emails/batch", json=body, headers=headers)
    assert first.json() == second.json()
    assert len(sb.outbox) == 2
    hook = {"url": "http://127.0.0.1:9/h", "events": ["email.sent"]}
    one = client.post("/webhooks", json=hook, headers=headers)  # same key, other path
    two = client.post("/webhooks", json=hook, headers=headers)
    assert one.status_code == two.status_code == 201
    assert one.json() == two.json()
    assert len(client.get("/webhooks").json()["webhooks"]) == 1


def test_idempotency_body_key(sb: Sandbox, client: httpx.Client) -> None:
    payload = message(idempotency_key="order-42")
    first = client.post("/emails", json=payload, headers={"Idempotency-Key": "a"})
    second = client.post("/emails", json=payload, headers={"Idempotency-Key": "b"})
    third = client.post("/emails", json=payload)
    assert first.json() == second.json() == third.json()
    assert first.status_code == second.status_code == third.status_code == 202
    assert len(sb.outbox) == 1
    assert sb.outbox[0].idempotency_key == "order-42"
    conflict = client.post("/emails", json=message(idempotency_key="order-42", subject="x"))
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "conflict"


def test_concurrent_replays_create_one_email(sb: Sandbox) -> None:
    def post() -> str:
        response = httpx.post(
            f"{sb.base_url}/emails",
            json=message(),
            headers={"Authorization": f"Bearer {KEY}", "Idempotency-Key": "same"},
        )
        return str(response.json()["id"])

    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(post())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(results) == 8
    assert len(set(results)) == 1
    assert len(sb.outbox) == 1


# --- inspection helpers -------------------------------------------------------------------------


def test_wait_for_emails_across_threads(sb: Sandbox) -> None:
    def later() -> None:
        with httpx.Client(base_url=sb.base_url, headers={"Authorization": f"Bearer {KEY}"}) as c:
            for _ in range(3):
                send(c)

    thread = threading.Thread(target=later)
    thread.start()
    emails = sb.wait_for_emails(3, timeout=5)
    thread.join(5)
    assert len(emails) == 3


def test_wait_for_emails_times_out(sb: Sandbox) -> None:
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="expected 1 emails"):
        sb.wait_for_emails(1, timeout=0.1)
    assert time.monotonic() - started < 2


def test_clear(sb: Sandbox, client: httpx.Client) -> None:
    email_id = send(client, idempotency_key="k")
    sb.faults.next(status=500, path="/never")
    sb.clear()
    assert sb.outbox == []
    assert sb.requests == []
    assert sb.faults.pending == []
    assert client.get(f"/emails/{email_id}").status_code == 404
    assert client.get("/domains").json()["domains"] != []
    assert client.post("/emails", json=message(idempotency_key="k")).json()["id"] != email_id


def test_fault_dataclass_is_recorded(sb: Sandbox, client: httpx.Client) -> None:
    fault = sb.faults.next(status=500)
    client.get("/emails")
    assert isinstance(sb.requests[0].fault, Fault)
    assert sb.requests[0].fault is fault
