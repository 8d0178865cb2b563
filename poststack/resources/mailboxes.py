from __future__ import annotations

from typing import TYPE_CHECKING

from poststack_core.endpoints import mailboxes

from .._resource import Mode, Resource, endpoint, pages

if TYPE_CHECKING:
    from poststack_core.types.mailboxes import Mailbox, MailboxAlias
else:
    # Item types only type the walkers; at run time a TypedDict is a plain dict.
    Mailbox = MailboxAlias = dict


class Mailboxes(Resource[Mode]):
    """``ps.mailboxes``: hosted mailboxes, aliases, filters, signatures and shares."""

    create = endpoint(mailboxes.create)
    list = endpoint(mailboxes.list)
    list_all = pages(mailboxes.list, "mailboxes", Mailbox)
    get = endpoint(mailboxes.get)
    update = endpoint(mailboxes.update)
    delete = endpoint(mailboxes.delete)
    change_password = endpoint(mailboxes.change_password)
    create_alias = endpoint(mailboxes.create_alias)
    list_aliases = endpoint(mailboxes.list_aliases)
    list_aliases_all = pages(mailboxes.list_aliases, "aliases", MailboxAlias)
    delete_alias = endpoint(mailboxes.delete_alias)
    list_filters = endpoint(mailboxes.list_filters)
    set_filters = endpoint(mailboxes.set_filters)
    get_signature = endpoint(mailboxes.get_signature)
    set_signature = endpoint(mailboxes.set_signature)
    list_shares = endpoint(mailboxes.list_shares)
    grant_share = endpoint(mailboxes.grant_share)
    revoke_share = endpoint(mailboxes.revoke_share)
    unread_summary = endpoint(mailboxes.unread_summary)
