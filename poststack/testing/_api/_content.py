"""Reading an email's content: the insights lint and the spam score of previews.

The API does not document either report beyond its outer keys, so the sandbox
computes a plausible, deterministic one from the content alone: the same email
always gets the same warnings and score, which is what a test can rely on.
"""

from __future__ import annotations

import re
from typing import Any

from .._models import SandboxEmail
from .._store import Entity

__all__ = ["insights", "spam_report"]

SUBJECT_LIMIT = 78
GMAIL_CLIP_BYTES = 102 * 1024
SPAM_THRESHOLD = 5.0

_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_LINK = re.compile(r"""<a\b[^>]*\bhref\s*=\s*["']([^"']*)["']""", re.IGNORECASE)
_SHORTENERS = ("bit.ly/", "tinyurl.com/", "t.co/", "goo.gl/", "ow.ly/")
_SPAMMY = re.compile(r"\b(free|winner|guaranteed|act now|100% off|risk[- ]free)\b", re.IGNORECASE)


def _warning(code: str, message: str, severity: str = "warning") -> dict[str, str]:
    return {"code": code, "message": message, "severity": severity}


def insights(
    subject: str | None,
    html: str | None,
    text: str | None,
    email: SandboxEmail | None,
    domain: Entity | None,
) -> dict[str, Any]:
    """``{"warnings": [...], "insights": {...}}`` for one email's content."""
    warnings: list[dict[str, str]] = []
    if not subject:
        warnings.append(_warning("missing_subject", "The email has no subject"))
    elif len(subject) > SUBJECT_LIMIT:
        warnings.append(
            _warning(
                "long_subject", f"The subject is longer than {SUBJECT_LIMIT} characters", "info"
            )
        )
    if html and not text:
        warnings.append(
            _warning("missing_text_part", "Add a plain-text part: some clients show only text")
        )
    html_size = len(html.encode("utf-8")) if html else 0
    if html_size > GMAIL_CLIP_BYTES:
        warnings.append(
            _warning("gmail_clipping", "The HTML is over 102 KB: Gmail clips the rest of it")
        )
    images = _IMG.findall(html or "")
    if any("alt=" not in image.lower() for image in images):
        warnings.append(_warning("image_without_alt", "An image has no alt text", "info"))
    links = _LINK.findall(html or "")
    if any(link.lower().startswith("http://") for link in links):
        warnings.append(_warning("insecure_link", "A link uses plain http://"))
    if domain is None or domain.data["status"] != "verified":
        warnings.append(
            _warning(
                "unverified_domain", "The sender's domain is not verified: mail may be rejected"
            )
        )
    report = spam_report(subject, html, text)
    return {
        "warnings": warnings,
        "insights": {
            "htmlSize": html_size,
            "textSize": len(text.encode("utf-8")) if text else 0,
            "links": len(links),
            "images": len(images),
            "attachments": len(email.attachments) if email is not None else 0,
            "recipients": len(email.recipients) if email is not None else 0,
            "spamScore": report["score"],
        },
    }


def spam_report(subject: str | None, html: str | None, text: str | None) -> dict[str, Any]:
    """``{score, threshold, verdict, rules}``: a small, explainable content score."""
    rules: list[dict[str, Any]] = []

    def hit(name: str, score: float, description: str) -> None:
        rules.append({"name": name, "score": score, "description": description})

    body = f"{html or ''}\n{text or ''}"
    if not subject:
        hit("MISSING_SUBJECT", 1.5, "No subject line")
    elif subject.isupper() and any(c.isalpha() for c in subject):
        hit("SUBJ_ALL_CAPS", 2.0, "Subject is all capitals")
    if "!!!" in (subject or "") or "!!!" in body:
        hit("EXCESS_EXCLAMATION", 1.0, "Three or more exclamation marks in a row")
    if _SPAMMY.search(subject or "") or _SPAMMY.search(body):
        hit("SALES_WORDING", 1.5, 'Words like "free", "winner", "guaranteed"')
    if html and not text:
        hit("HTML_ONLY", 1.0, "HTML without a plain-text part")
    if any(shortener in body for shortener in _SHORTENERS):
        hit("URL_SHORTENER", 1.0, "A link through a URL shortener")
    if html and len(_IMG.findall(html)) > 0 and len(re.sub(r"<[^>]+>", "", html).strip()) < 20:
        hit("IMAGE_ONLY", 2.0, "Mostly images with little text")
    score = round(sum(rule["score"] for rule in rules), 1)
    return {
        "score": score,
        "threshold": SPAM_THRESHOLD,
        "verdict": "spam" if score >= SPAM_THRESHOLD else "clean",
        "rules": rules,
    }
