from __future__ import annotations

from typing import TYPE_CHECKING

from poststack_core.endpoints import emails

from .._resource import Mode, Resource, bulk, endpoint, pages

if TYPE_CHECKING:
    from poststack_core.types.emails import Email
else:
    # Item types only type the walkers; at run time a TypedDict is a plain dict.
    Email = dict


class Emails(Resource[Mode]):
    """``ps.emails``: send, batch, read and manage transactional emails."""

    send = endpoint(emails.send)
    batch = endpoint(emails.batch)
    send_many = bulk(emails.send_many)
    send_chunk = bulk(emails.send_chunk)
    get = endpoint(emails.get)
    list = endpoint(emails.list)
    list_all = pages(emails.list, "emails", Email)
    cancel = endpoint(emails.cancel)
    reschedule = endpoint(emails.reschedule)
    get_events = endpoint(emails.get_events)
    get_insights = endpoint(emails.get_insights)
    preview = endpoint(emails.preview)
    spam_preview = endpoint(emails.spam_preview)
