"""Resource classes: each lists its endpoints once, for both clients."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
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
    "Segments",
    "SignupForms",
    "SubscriptionTopics",
    "Suppressions",
    "Templates",
    "Webhooks",
    "Workflows",
]

_MODULES = {
    "ApiKeys": "api_keys",
    "Broadcasts": "broadcasts",
    "ContactProperties": "contact_properties",
    "Contacts": "contacts",
    "Domains": "domains",
    "EmailValidations": "email_validations",
    "Emails": "emails",
    "InboundEmails": "inbound_emails",
    "Mailboxes": "mailboxes",
    "NotificationChannels": "notification_channels",
    "Segments": "segments",
    "SignupForms": "signup_forms",
    "SubscriptionTopics": "subscription_topics",
    "Suppressions": "suppressions",
    "Templates": "templates",
    "Webhooks": "webhooks",
    "Workflows": "workflows",
}


def __getattr__(name: str) -> object:
    # Each resource module is imported on first use (the clients build theirs lazily too).
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
