"""Proxy and CA settings from the environment, decided once for every transport.

``Environment.from_environ(os.environ)`` reads the variables ``httpx.Client``
honours with ``trust_env=True`` (and curl, and requests): ``HTTP_PROXY``,
``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``, ``SSL_CERT_FILE`` and
``SSL_CERT_DIR``. :meth:`Environment.proxy_for` then answers, with no I/O,
"which proxy, if any, for this URL". Every transport the SDK creates asks
these two questions and nothing else, so every runtime routes a request the
same way.

The rules, where the tools differ, are:

* the proxy variables are read as :func:`urllib.request.getproxies` reads
  them (and so httpx and requests): either case, a lower-case one winning
  over its upper-case twin; an empty lower-case one unsets it; ``HTTP_PROXY``
  in upper case is ignored when ``REQUEST_METHOD`` is set, since in a CGI
  program a client can set it;
* ``http_proxy`` serves ``http://`` URLs, ``https_proxy`` serves
  ``https://`` ones (through an HTTP ``CONNECT`` tunnel), ``all_proxy``
  serves both when the scheme's own variable is unset;
* a proxy is ``http://`` or ``https://`` (no scheme means ``http://``); user
  and password in it become a ``Proxy-Authorization: Basic`` header; other
  schemes (``socks5://``) are refused with an error naming the variable;
* ``NO_PROXY`` is a comma-separated list: ``*`` (everything), a host name
  (``example.com`` or ``.example.com``, which also match every subdomain),
  an IP address, or a network in CIDR form (``10.0.0.0/8``), each optionally
  with ``:port``;
* ``SSL_CERT_FILE`` (a PEM bundle) replaces the default CA certificates, as
  httpx does; otherwise ``SSL_CERT_DIR`` (a hashed directory) does; otherwise
  certifi's bundle is used.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    import ssl

__all__ = ["DEFAULT_PORTS", "Environment", "Proxy"]

DEFAULT_PORTS = {"http": 80, "https": 443}
"""The port of each scheme a proxy URL or a request may have, when none is written."""


@dataclass(frozen=True, slots=True)
class Proxy:
    """An HTTP proxy: where to connect, and the credentials to present (never shown)."""

    scheme: str
    host: str
    port: int
    authorization: str | None = field(default=None, repr=False)
    """The ``Proxy-Authorization`` header value, when the proxy URL carried credentials."""

    @property
    def url(self) -> str:
        """``scheme://host:port``, without credentials: safe to show."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def headers(self) -> tuple[tuple[str, str], ...]:
        """The headers every request to (or tunnel through) the proxy carries."""
        if self.authorization is None:
            return ()
        return (("Proxy-Authorization", self.authorization),)


@dataclass(frozen=True, slots=True)
class _Bypass:
    """One ``NO_PROXY`` entry."""

    domain: str | None = None
    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None
    port: int | None = None

    def matches(self, host: str, port: int) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.network is not None:
            try:
                return ipaddress.ip_address(host) in self.network
            except ValueError:
                return False
        assert self.domain is not None
        return host == self.domain or host.endswith("." + self.domain)


@dataclass(frozen=True, slots=True)
class Environment:
    """The proxy and CA settings a transport honours; ``Environment()`` is "none at all"."""

    http_proxy: Proxy | None = None
    https_proxy: Proxy | None = None
    bypass_all: bool = False
    bypass: tuple[_Bypass, ...] = ()
    ca_file: str | None = None
    ca_dir: str | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Environment:
        """The settings in ``environ`` (default ``os.environ``).

        Raises ValueError, naming the variable, for a proxy the transports
        cannot use or a CA path that does not exist: before anything is sent.
        """
        env = os.environ if environ is None else environ
        found = _proxy_variables(env)

        def get(name: str) -> tuple[str, str] | None:
            if name in found:
                return found[name]
            value = env.get(name.upper(), "").strip()
            return (name.upper(), value) if value else None

        everything = _proxy(found.get("all"))
        no_proxy = found.get("no")
        entries = [e.strip().lower() for e in no_proxy[1].split(",")] if no_proxy else []
        ca_file = get("ssl_cert_file")
        ca_dir = get("ssl_cert_dir")
        if ca_file is not None and not os.path.isfile(ca_file[1]):
            raise ValueError(f"{ca_file[0]}={ca_file[1]!r} is not a file of CA certificates")
        if ca_file is None and ca_dir is not None and not os.path.isdir(ca_dir[1]):
            raise ValueError(f"{ca_dir[0]}={ca_dir[1]!r} is not a directory of CA certificates")
        return cls(
            http_proxy=_proxy(found.get("http")) or everything,
            https_proxy=_proxy(found.get("https")) or everything,
            bypass_all="*" in entries,
            bypass=tuple(_bypass(entry) for entry in entries if entry and entry != "*"),
            ca_file=ca_file[1] if ca_file else None,
            ca_dir=ca_dir[1] if ca_dir and not ca_file else None,
        )

    def proxy_for(self, scheme: str, host: str, port: int) -> Proxy | None:
        """The proxy for a request to ``scheme://host:port``, or None to connect directly."""
        proxy = self.https_proxy if scheme == "https" else self.http_proxy
        if proxy is None or self.bypass_all:
            return None
        host = host.lower().rstrip(".").strip("[]")
        if any(entry.matches(host, port) for entry in self.bypass):
            return None
        return proxy

    def ssl_context(self) -> ssl.SSLContext:
        """A new client TLS context that verifies certificates against the CAs chosen above."""
        import ssl

        if self.ca_file is not None or self.ca_dir is not None:
            return ssl.create_default_context(cafile=self.ca_file, capath=self.ca_dir)
        try:
            import certifi
        except ImportError:  # pragma: no cover - certifi comes with httpx and requests
            return ssl.create_default_context()
        return ssl.create_default_context(cafile=certifi.where())

    @property
    def ca_location(self) -> str | None:
        """The CA file or directory in use, or None for the default bundle (for requests)."""
        return self.ca_file or self.ca_dir


def _proxy_variables(env: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """``{"http": (variable, value), "no": ...}``: the ``*_proxy`` variables, read as urllib."""
    found: dict[str, tuple[str, str]] = {}
    # Two passes, as urllib.request.getproxies_environment: any case first, then the
    # lower-case names again, which win (and unset, when empty).
    for name, value in env.items():
        if name.lower().endswith("_proxy") and value.strip():
            found[name.lower()[:-6]] = (name, value.strip())
    if "REQUEST_METHOD" in env:
        found.pop("http", None)  # a CGI client can set HTTP_PROXY (httpoxy)
    for name, value in env.items():
        if name.endswith("_proxy") and name == name.lower():
            if value.strip():
                found[name[:-6]] = (name, value.strip())
            else:
                found.pop(name[:-6], None)
    return found


def _proxy(found: tuple[str, str] | None) -> Proxy | None:
    if found is None:
        return None
    variable, value = found
    parts = urlsplit(value if "://" in value else f"http://{value}")
    # Never echo the value: it may hold a password.
    where = f"{variable} ({parts.scheme}://{parts.hostname or ''}…)"
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError(
            f"{where}: only http:// and https:// proxies are supported, not {scheme}://; "
            "pass trust_env=False to ignore the environment"
        )
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        raise ValueError(f"{where} has an invalid port") from None
    if not parts.hostname:
        raise ValueError(f"{where} names no host")
    authorization = None
    if parts.username is not None or parts.password is not None:
        import base64  # only for a proxy with credentials

        user_password = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
        token = base64.b64encode(user_password.encode("utf-8")).decode("ascii")
        authorization = f"Basic {token}"
    return Proxy(scheme, parts.hostname, port, authorization)


def _bypass(entry: str) -> _Bypass:
    host, port = entry, None
    if entry.startswith("["):  # [::1] or [::1]:8080
        host, _, rest = entry[1:].partition("]")
        port = _port(rest[1:]) if rest.startswith(":") else None
    elif entry.count(":") == 1:  # host:port; a bare IPv6 address has more colons
        host, _, number = entry.partition(":")
        port = _port(number)
    try:
        return _Bypass(network=ipaddress.ip_network(host, strict=False), port=port)
    except ValueError:
        pass
    return _Bypass(domain=host.removeprefix("*").lstrip(".").rstrip("."), port=port)


def _port(text: str) -> int | None:
    # An entry with a port that is not a number matches no port at all.
    return int(text) if text.isdigit() else -1
