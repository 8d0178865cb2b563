"""TypedDicts for request payloads and responses, with the API's own key spellings.

Responses are plain dicts at run time: keys a newer API adds still come
through, they are just not in the type. Keys the API always sends are
required in the types; the others are ``NotRequired`` (read them with ``.get``).

One module per resource lists its names in its ``__all__``; this package
re-exports all of them (a new type is added to its module alone).
"""

from .api_keys import *  # noqa: F403
from .broadcasts import *  # noqa: F403
from .common import *  # noqa: F403
from .contact_properties import *  # noqa: F403
from .contacts import *  # noqa: F403
from .domains import *  # noqa: F403
from .email_validations import *  # noqa: F403
from .emails import *  # noqa: F403
from .inbound_emails import *  # noqa: F403
from .mailboxes import *  # noqa: F403
from .notification_channels import *  # noqa: F403
from .segments import *  # noqa: F403
from .signup_forms import *  # noqa: F403
from .subscription_topics import *  # noqa: F403
from .suppressions import *  # noqa: F403
from .templates import *  # noqa: F403
from .webhooks import *  # noqa: F403
from .workflows import *  # noqa: F403
