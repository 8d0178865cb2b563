"""Resource classes: each lists its endpoints once, for both clients."""

from .emails import Emails

__all__ = ["Emails"]
