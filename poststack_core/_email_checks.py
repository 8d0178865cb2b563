"""The checks an email payload gets before it is sent, alone or in a batch."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from ._narrow import as_list, as_mapping


def check_attachments(email: Mapping[str, Any], where: str) -> None:
    """Each attachment is a dict whose ``content`` is base64 text (the API's encoding)."""
    if email.get("attachments") is None:
        return
    attachments = as_list(email["attachments"])
    if attachments is None:
        raise TypeError(f"{where}attachments must be a list of {{filename, content}} dicts")
    for i, item in enumerate(attachments):
        attachment = as_mapping(item)
        if attachment is None:
            raise TypeError(f"{where}attachments[{i}] must be a dict")
        content: object = attachment.get("content")
        if content is None:
            continue
        if not isinstance(content, str):
            raise TypeError(
                f"{where}attachments[{i}].content must be base64 text (str), got "
                f"{type(content).__name__}; encode bytes with base64.b64encode(data).decode()"
            )
        try:
            # Line breaks are common in MIME-style base64 and harmless; anything else is not.
            base64.b64decode("".join(content.split()), validate=True)
        except (ValueError, binascii.Error):
            raise ValueError(f"{where}attachments[{i}].content is not valid base64") from None


def check_email(item: object, where: str) -> Mapping[str, Any]:
    """``item`` as an email payload (a dict with sound attachments), or a clear error."""
    email = as_mapping(item)
    if email is None:
        raise TypeError(f"{where} must be a dict (an email payload), got {type(item).__name__}")
    check_attachments(email, f"{where}.")
    return email
