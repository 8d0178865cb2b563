"""Idempotency-Key values: uuid4 text from random bytes the caller supplies."""

from __future__ import annotations


def idempotency_key_from(random_bytes: bytes) -> str:
    """A version-4 UUID string built from 16 random bytes (``os.urandom(16)``).

    The core owns no randomness; the façade passes the bytes in, so tests can
    pin keys and the core stays pure.
    """
    if len(random_bytes) != 16:
        raise ValueError("an idempotency key needs exactly 16 random bytes")
    b = bytearray(random_bytes)
    b[6] = (b[6] & 0x0F) | 0x40  # version 4
    b[8] = (b[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
