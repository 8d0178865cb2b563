"""One pure function per API endpoint, each returning an :class:`~poststack_core.Operation`.

These functions are the single definition of every endpoint: the sync and
async clients are derived from them, signatures included.
"""
