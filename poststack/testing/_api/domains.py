"""``domains``: sending domains, their DNS records and verification, DKIM rotation, DMARC.

DNS is the sandbox's own fiction, kept consistent:

- ``verify`` finds every record in place, so the domain becomes ``verified``,
  unless its name starts with ``unverifiable.`` or ends with ``.invalid``: then
  it becomes ``failed`` (a way to test that path);
- a DKIM rotation's new key "appears in DNS" when ``verify`` is called or ten
  sandbox minutes after it was staged; activating it is a 409 before that,
  and before the 24-hour propagation wait unless ``force=true``; the retired
  selector leaves seven days after activation;
- DMARC reports, stats and sources and inbox placement are computed from the
  emails sent from the domain: one aggregate report per day with mail, every
  message passing when the domain is verified.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from .._http import Reply
from .._models import SandboxEmail
from .._routing import ApiRequest, Routes, created, ok, success
from .._store import Entity, Store
from .._validation import conflict, isoformat, parse_timestamp, unprocessable
from ._common import Kind, camel_page, query_int

__all__ = ["DOMAIN", "add_domain", "routes", "sending_domain"]

routes = Routes()
DOMAIN = Kind("domain", "Domain")

REGIONS = ("eu-west-1", "us-east-1", "sa-east-1", "ap-northeast-1")
TLS_MODES = ("opportunistic", "enforced")
_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
PUBLISH_AFTER = timedelta(minutes=10)
PROPAGATION = timedelta(hours=24)
RETIRE_AFTER = timedelta(days=7)
# update's snake_case input -> the Domain object's key; the switches and tls_mode cannot be null.
_SWITCHES = {
    "open_tracking": "openTracking",
    "click_tracking": "clickTracking",
    "inbound_enabled": "inboundEnabled",
    "catch_all": "catchAll",
}
_NULLABLE = {
    "custom_return_path": "customReturnPath",
    "tracking_domain": "trackingDomain",
    "bimi_logo_url": "bimiLogoUrl",
}


def _dkim_key(name: str, selector: str) -> str:
    # A stable stand-in for a public key: the same domain and selector, the same value.
    digest = hashlib.sha256(f"{name}/{selector}".encode()).digest() * 8
    return "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" + base64.b64encode(digest).decode()[:300]


def dns_records(name: str, verified: bool, selector: str = "ps1") -> list[dict[str, Any]]:
    """The records a domain must publish; ``verified`` once the sandbox "found" them."""
    return [
        {
            "type": "TXT",
            "name": name,
            "value": "v=spf1 include:spf.poststack.dev ~all",
            "purpose": "spf",
            "verified": verified,
        },
        {
            "type": "TXT",
            "name": f"{selector}._domainkey.{name}",
            "value": f"v=DKIM1; k=rsa; p={_dkim_key(name, selector)}",
            "purpose": "dkim",
            "verified": verified,
        },
        {
            "type": "TXT",
            "name": f"_dmarc.{name}",
            "value": "v=DMARC1; p=none;",
            "purpose": "dmarc",
            "verified": verified,
        },
        {
            "type": "CNAME",
            "name": f"bounces.{name}",
            "value": "return.poststack.dev",
            "purpose": "return_path",
            "verified": verified,
        },
    ]


def add_domain(store: Store, name: str, *, verified: bool, now: str) -> Entity:
    """Register a domain (the sandbox's ``verified_domains`` and ``domains.create``)."""
    return DOMAIN.create(
        store,
        {
            "name": name,
            "status": "verified" if verified else "pending",
            "region": "us-east-1",
            "dnsRecords": dns_records(name, verified),
            "openTracking": False,
            "clickTracking": False,
            "catchAll": False,
            "tlsMode": "opportunistic",
            "trackingDomain": None,
            "inboundEnabled": False,
            "bimiLogoUrl": None,
            "customReturnPath": None,
            "verifiedAt": now if verified else None,
        },
        now=now,
        aliases=(f"name:{name}",),
        private={"rotation": {"state": "idle", "activeSelector": "ps1"}},
    )


def sending_domain(store: Store, name: str) -> Entity | None:
    """The registered domain for ``name`` itself or its closest parent."""
    labels = name.lower().split(".")
    for start in range(len(labels) - 1):
        domain = store.get(DOMAIN.name, "name:" + ".".join(labels[start:]))
        if domain is not None:
            return domain
    return None


def _find(call: ApiRequest) -> Entity:
    return DOMAIN.find(call.backend.store, call.param("id"))


@routes.post("/domains")
def create(call: ApiRequest) -> Reply:
    fields = call.body()
    name = fields.required_text("name").strip().lower().rstrip(".")
    if not _DOMAIN_RE.match(name):
        raise unprocessable(f"Invalid domain name: {name!r}")
    region = fields.choice("region", REGIONS, default="us-east-1")
    tls_mode = fields.choice("tls_mode", TLS_MODES, default="opportunistic")
    open_tracking = fields.flag("open_tracking", False)
    click_tracking = fields.flag("click_tracking", False)
    return_path = fields.text("custom_return_path")
    store = call.backend.store
    if store.get(DOMAIN.name, f"name:{name}") is not None:
        raise conflict(f"Domain already exists: {name}")
    now = call.backend.now_iso()
    domain = add_domain(store, name, verified=False, now=now)
    domain = DOMAIN.update(
        store,
        domain,
        {
            "region": region,
            "tlsMode": tls_mode,
            "openTracking": open_tracking,
            "clickTracking": click_tracking,
            "customReturnPath": return_path,
        },
        now=now,
    )
    call.backend.emit("domain.created", {"id": domain.data["id"], "name": name})
    return created({"domain": domain.data})


@routes.get("/domains")
def list_(call: ApiRequest) -> Reply:
    return ok({"domains": [d.data for d in DOMAIN.all(call.backend.store)]})


@routes.get("/domains/{id}")
def get(call: ApiRequest) -> Reply:
    return ok({"domain": _find(call).data})


@routes.patch("/domains/{id}")
def update(call: ApiRequest) -> Reply:
    domain = _find(call)
    fields = call.body()
    changes: dict[str, Any] = {}
    for key, api_key in _SWITCHES.items():
        if fields.has(key):
            changes[api_key] = fields.flag(key)
    if fields.has("tls_mode"):
        changes["tlsMode"] = fields.choice("tls_mode", TLS_MODES)
    if any(changes[k] is None for k in changes):
        raise unprocessable("tls_mode and the tracking switches cannot be null")
    for key, api_key in _NULLABLE.items():
        if fields.has(key):
            changes[api_key] = fields.text(key)
    domain = DOMAIN.update(call.backend.store, domain, changes, now=call.backend.now_iso())
    return ok({"domain": domain.data})


@routes.delete("/domains/{id}")
def delete(call: ApiRequest) -> Reply:
    domain = _find(call)
    DOMAIN.remove(call.backend.store, domain)
    call.backend.emit("domain.deleted", {"id": domain.data["id"], "name": domain.data["name"]})
    return success()


def _fails_verification(name: str) -> bool:
    return name.startswith("unverifiable.") or name.endswith(".invalid")


@routes.post("/domains/{id}/verify")
def verify(call: ApiRequest) -> Reply:
    domain = _find(call)
    backend = call.backend
    now = backend.now_iso()
    name = domain.data["name"]
    rotation = _rotation(domain, backend.now())
    if rotation["state"] == "pending_dns":
        rotation = _published(rotation, backend.now())
    changes: dict[str, Any] = {}
    if _fails_verification(name):
        changes = {"status": "failed", "dnsRecords": dns_records(name, False)}
    elif domain.data["status"] != "verified":
        selector = rotation.get("activeSelector") or "ps1"
        changes = {
            "status": "verified",
            "verifiedAt": now,
            "dnsRecords": dns_records(name, True, selector),
        }
    domain = DOMAIN.update(backend.store, domain, changes, now=now, private={"rotation": rotation})
    if changes.get("status") == "verified":
        backend.emit("domain.verified", {"id": domain.data["id"], "name": name})
    return ok({"domain": domain.data, "queued": False})


# --- DKIM rotation ----------------------------------------------------------------------


def _rotation(domain: Entity, now: datetime) -> dict[str, Any]:
    """The rotation state as of ``now`` (publishing and retiring happen with time)."""
    rotation = dict(domain.private.get("rotation") or {"state": "idle", "activeSelector": "ps1"})
    started = parse_timestamp(rotation.get("startedAt") or "")
    if rotation["state"] == "pending_dns" and started and now >= started + PUBLISH_AFTER:
        rotation = _published(rotation, started + PUBLISH_AFTER)
    retire = parse_timestamp(rotation.get("retireAfter") or "")
    if rotation["state"] == "retiring" and retire and now >= retire:
        rotation = {**rotation, "state": "idle", "retiredSelector": None, "retireAfter": None}
    return rotation


def _published(rotation: dict[str, Any], at: datetime) -> dict[str, Any]:
    return {
        **rotation,
        "state": "ready",
        "publishedAt": isoformat(at),
        "activatesAfter": isoformat(at + PROPAGATION),
    }


def _rotation_reply(call: ApiRequest, domain: Entity, rotation: dict[str, Any]) -> Reply:
    DOMAIN.update(
        call.backend.store, domain, {}, now=call.backend.now_iso(), private={"rotation": rotation}
    )
    view = {
        "domainId": domain.data["id"],
        "state": rotation["state"],
        "activeSelector": rotation.get("activeSelector"),
        "pendingSelector": rotation.get("pendingSelector"),
        "pendingPublicKey": rotation.get("pendingPublicKey"),
        "pendingRecordName": rotation.get("pendingRecordName"),
        "pendingRecordValue": rotation.get("pendingRecordValue"),
        "startedAt": rotation.get("startedAt"),
        "publishedAt": rotation.get("publishedAt"),
        "activatesAfter": rotation.get("activatesAfter"),
        "retiredSelector": rotation.get("retiredSelector"),
        "retireAfter": rotation.get("retireAfter"),
    }
    return ok({"rotation": view})


@routes.post("/domains/{id}/dkim/rotate")
def start_dkim_rotation(call: ApiRequest) -> Reply:
    domain = _find(call)
    rotation = _rotation(domain, call.backend.now())
    if rotation["state"] in ("pending_dns", "ready"):
        raise conflict("A DKIM rotation is already staged for this domain")
    active = rotation.get("activeSelector") or "ps1"
    selector = f"ps{int(active.removeprefix('ps') or '1') + 1}"
    name = domain.data["name"]
    key = _dkim_key(name, selector)
    rotation = {
        **rotation,
        "state": "pending_dns",
        "pendingSelector": selector,
        "pendingPublicKey": key,
        "pendingRecordName": f"{selector}._domainkey.{name}",
        "pendingRecordValue": f"v=DKIM1; k=rsa; p={key}",
        "startedAt": call.backend.now_iso(),
        "publishedAt": None,
        "activatesAfter": None,
    }
    return _rotation_reply(call, domain, rotation)


@routes.post("/domains/{id}/dkim/rotate/activate")
def activate_dkim_rotation(call: ApiRequest) -> Reply:
    domain = _find(call)
    now = call.backend.now()
    rotation = _rotation(domain, now)
    force = call.query.get("force", "").lower() == "true"
    if rotation["state"] == "pending_dns":
        raise conflict("The new DKIM key is not in DNS yet: publish the pending record first")
    if rotation["state"] != "ready":
        raise conflict("No DKIM rotation is staged for this domain")
    activates = parse_timestamp(rotation["activatesAfter"])
    if activates and now < activates and not force:
        raise conflict(
            f"DNS propagation wait until {rotation['activatesAfter']}; "
            "pass force=true to activate sooner"
        )
    rotation = {
        "state": "retiring",
        "activeSelector": rotation["pendingSelector"],
        "retiredSelector": rotation.get("activeSelector"),
        "retireAfter": isoformat(now + RETIRE_AFTER),
        "startedAt": rotation.get("startedAt"),
        "publishedAt": rotation.get("publishedAt"),
        "activatesAfter": rotation.get("activatesAfter"),
    }
    return _rotation_reply(call, domain, rotation)


@routes.delete("/domains/{id}/dkim/rotate")
def cancel_dkim_rotation(call: ApiRequest) -> Reply:
    domain = _find(call)
    rotation = _rotation(domain, call.backend.now())
    if rotation["state"] not in ("pending_dns", "ready"):
        raise conflict("No DKIM rotation is staged for this domain")
    rotation = {"state": "idle", "activeSelector": rotation.get("activeSelector")}
    return _rotation_reply(call, domain, rotation)


# --- dedicated IP -----------------------------------------------------------------------


@routes.post("/domains/{id}/ip")
def assign_ip(call: ApiRequest) -> Reply:
    domain = _find(call)
    ip = call.body().integer("ipAddressId", minimum=1, required=True)
    DOMAIN.update(call.backend.store, domain, {"ipAddressId": ip}, now=call.backend.now_iso())
    return success()


@routes.delete("/domains/{id}/ip")
def unassign_ip(call: ApiRequest) -> Reply:
    domain = _find(call)
    DOMAIN.update(call.backend.store, domain, {"ipAddressId": None}, now=call.backend.now_iso())
    return success()


# --- DMARC and placement, from the domain's own mail ------------------------------------


def _domain_emails(call: ApiRequest, domain: Entity, days: int | None) -> list[SandboxEmail]:
    since = call.backend.now() - timedelta(days=days) if days is not None else None
    out: list[SandboxEmail] = []
    for email in call.backend.store.emails.values():
        if email.domain_id != domain.data["id"]:
            continue
        created_at = parse_timestamp(email.created_at)
        if since is None or (created_at is not None and created_at >= since):
            out.append(email)
    return out


def _days(call: ApiRequest) -> int:
    return query_int(call.query, "days", default=30, minimum=0, maximum=365)


@routes.get("/domains/{id}/dmarc/reports")
def get_dmarc_reports(call: ApiRequest) -> Reply:
    domain = _find(call)
    by_day = Counter(email.created_at[:10] for email in _domain_emails(call, domain, None))
    name = domain.data["name"]
    reports = [
        {
            "id": index + 1,
            "domainId": domain.data["id"],
            "reportId": f"sandbox-{name}-{day}",
            "orgName": "sandbox.poststack.dev",
            "email": "dmarc-reports@sandbox.poststack.dev",
            "dateRangeStart": f"{day}T00:00:00.000Z",
            "dateRangeEnd": f"{day}T23:59:59.999Z",
            "domain": name,
            "policyPublished": {"p": "none", "adkim": "r", "aspf": "r", "pct": 100},
            "status": "processed",
            "createdAt": f"{day}T23:59:59.999Z",
            "messageCount": count,
        }
        for index, (day, count) in enumerate(sorted(by_day.items(), reverse=True))
    ]
    return ok(camel_page("reports", reports, call.query, per_page="perPage"))


@routes.get("/domains/{id}/dmarc/stats")
def get_dmarc_stats(call: ApiRequest) -> Reply:
    domain = _find(call)
    emails = _domain_emails(call, domain, _days(call))
    passing = domain.data["status"] == "verified"
    by_day = Counter(email.created_at[:10] for email in emails)
    daily = [
        {"date": day, "total": n, "passed": n if passing else 0, "failed": 0 if passing else n}
        for day, n in sorted(by_day.items())
    ]
    total = len(emails)
    return ok(
        {
            "totalMessages": total,
            "passRate": (1.0 if passing else 0.0) if total else 0.0,
            "failedMessages": 0 if passing else total,
            "dailyStats": daily,
        }
    )


@routes.get("/domains/{id}/dmarc/sources")
def get_dmarc_sources(call: ApiRequest) -> Reply:
    domain = _find(call)
    emails = _domain_emails(call, domain, _days(call))
    if not emails:
        return ok({"sources": []})
    passing = domain.data["status"] == "verified"
    count = len(emails)
    source = {
        "sourceIp": "127.0.0.1",
        "orgName": "PostStack Sandbox",
        "count": count,
        "passCount": count if passing else 0,
        "failCount": 0 if passing else count,
    }
    return ok({"sources": [source]})


@routes.get("/domains/{id}/placement")
def get_inbox_placement(call: ApiRequest) -> Reply:
    domain = _find(call)
    days = _days(call)
    emails = _domain_emails(call, domain, days)
    providers: dict[str, Counter[str]] = {}
    for email in emails:
        for address in email.to:
            provider = address.rsplit("@", 1)[1].lower()
            providers.setdefault(provider, Counter())[email.status] += 1
    totals = Counter(email.status for email in emails)
    inbox = totals["delivered"]
    return ok(
        {
            "windowDays": days,
            "totals": {
                "sent": len(emails),
                "delivered": inbox,
                "bounced": totals["bounced"],
                "complained": totals["complained"],
                "inbox": inbox,
                "spam": totals["complained"],
            },
            "senderSignals": [],
            "recipientSignals": [],
            "providers": [
                {"provider": name, "sent": sum(counts.values()), **dict(counts)}
                for name, counts in sorted(providers.items())
            ],
        }
    )
