"""Resource classes: each lists its endpoints once, for both clients."""

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
