"""Value: the base of the core's small immutable records.

Hand-written instead of ``dataclasses`` because importing ``dataclasses`` pulls
in ``inspect`` and costs more than the rest of the core together; the core
must import in a few milliseconds (embedded runtimes, CLI start-up). For the
same reason the core imports ``typing`` for type checkers only: at run time
its generic classes derive from the small :class:`Generic` stand-in below.
"""

from __future__ import annotations

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing at run time

if TYPE_CHECKING:
    from typing import Any, Generic
else:

    class Generic:
        """Run-time stand-in for ``typing.Generic``: ``Operation[X]`` is ``Operation``.

        Type checkers see ``typing.Generic`` itself; at run time the parameters
        only ever served annotations, so subscripting returns the class unchanged.
        """

        __slots__ = ()

        def __class_getitem__(cls, params):
            return cls


__all__ = ["Generic", "Value", "set_field"]

set_field = object.__setattr__
"""Sets a field of a Value in its ``__init__`` (plain assignment raises)."""
_set = set_field


class Value:
    """Slotted, immutable, compared and hashed by its fields, in ``__slots__`` order."""

    __slots__: tuple[str, ...] = ()
    _hidden: frozenset[str] = frozenset()
    """Fields left out of ``repr`` (secrets)."""

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; build a new one instead")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self) or not isinstance(other, Value):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={getattr(self, name)!r}" for name in self.__slots__ if name not in self._hidden
        )
        return f"{type(self).__name__}({fields})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self._values()))


def _rebuild(cls: type[Value], values: tuple[Any, ...]) -> Value:
    value = object.__new__(cls)
    for name, item in zip(cls.__slots__, values, strict=True):
        _set(value, name, item)
    return value
