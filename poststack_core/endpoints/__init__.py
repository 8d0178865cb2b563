"""One module per resource of the API: the single definition of every endpoint.

Each module defines one pure function per endpoint, returning an
:class:`~poststack_core.Operation`, and ends with the :class:`Resource
<poststack_core.Resource>` class that groups them (``Emails``, ``Domains``
...). :class:`Resources` gathers every resource: both clients inherit it, so
``client.emails`` is the :class:`Emails` resource bound to that client.

Adding an endpoint touches its module (the function and one line in the
class), its types in ``poststack_core.types`` and the spec table; adding a
resource adds a module here and a line in :class:`Resources`.
"""

# No ``from __future__ import annotations`` here: Resources reads its own
# annotations at run time to build each resource.
from typing import Any, Generic, cast, get_origin

from .._resource import Binder, Mode, Resource
from .api_keys import ApiKeys
from .broadcasts import Broadcasts
from .contact_properties import ContactProperties
from .contacts import Contacts
from .domains import Domains
from .email_validations import EmailValidations
from .emails import Emails
from .inbound_emails import InboundEmails
from .mailboxes import Mailboxes
from .notification_channels import NotificationChannels
from .segments import Segments
from .signup_forms import SignupForms
from .subscription_topics import SubscriptionTopics
from .suppressions import Suppressions
from .templates import Templates
from .webhooks import Webhooks
from .workflows import Workflows

__all__ = [
    "ApiKeys",
    "Broadcasts",
    "ContactProperties",
    "Contacts",
    "Domains",
    "EmailValidations",
    "Emails",
    "InboundEmails",
    "Mailboxes",
    "NotificationChannels",
    "Resources",
    "Segments",
    "SignupForms",
    "SubscriptionTopics",
    "Suppressions",
    "Templates",
    "Webhooks",
    "Workflows",
]


class Resources(Generic[Mode]):
    """Every resource of the API as an attribute, each bound to one client's ``binder``."""

    api_keys: ApiKeys[Mode]
    broadcasts: Broadcasts[Mode]
    contact_properties: ContactProperties[Mode]
    contacts: Contacts[Mode]
    domains: Domains[Mode]
    email_validations: EmailValidations[Mode]
    emails: Emails[Mode]
    inbound_emails: InboundEmails[Mode]
    mailboxes: Mailboxes[Mode]
    notification_channels: NotificationChannels[Mode]
    segments: Segments[Mode]
    signup_forms: SignupForms[Mode]
    subscription_topics: SubscriptionTopics[Mode]
    suppressions: Suppressions[Mode]
    templates: Templates[Mode]
    webhooks: Webhooks[Mode]
    workflows: Workflows[Mode]

    def __init__(self, binder: Binder) -> None:
        # The annotations above are the list of resources: one instance of each.
        for name, annotation in Resources.__annotations__.items():
            resource = cast("type[Resource[Any]]", get_origin(annotation))
            setattr(self, name, resource(binder))
