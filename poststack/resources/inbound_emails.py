from __future__ import annotations

from typing import TYPE_CHECKING

from poststack_core.endpoints import inbound_emails

from .._resource import Mode, Resource, endpoint, pages

if TYPE_CHECKING:
    from poststack_core.types.inbound_emails import InboundEmail
else:
    # Item types only type the walkers; at run time a TypedDict is a plain dict.
    InboundEmail = dict


class InboundEmails(Resource[Mode]):
    """``ps.inbound_emails``: mail received on your domains."""

    list = endpoint(inbound_emails.list)
    list_all = pages(inbound_emails.list, "emails", InboundEmail)
    get = endpoint(inbound_emails.get)
    list_attachments = endpoint(inbound_emails.list_attachments)
    download_attachment = endpoint(inbound_emails.download_attachment)
    draft_reply = endpoint(inbound_emails.draft_reply)
    reply = endpoint(inbound_emails.reply)
    forward = endpoint(inbound_emails.forward)
