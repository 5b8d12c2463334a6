"""Where the client may connect: public addresses, and the hosts an outlet was configured with.

Pages, feeds and redirects name the next URL, so a hostile or compromised site could send the
crawler to the cloud metadata service (169.254.169.254), a router, or a database on the same
server, and store the answer as an article. Every request is therefore checked twice:

- before it is sent, per outlet: the host must resolve to public addresses only, unless it is
  one the outlet's own configuration names (a local mirror, the demo on 127.0.0.1);
- when the connection is made: the address really connected to is the one just resolved and
  checked (the resolver is asked once, and the socket goes to its answer), so a name that
  resolves to a public address for the first check and to a private one a moment later (DNS
  rebinding) gets nowhere. This check knows no outlet: it exempts every configured host.

httpcore has a documented interface for this (network backends); httpx has no parameter to pass
one to its transport, hence the one private attribute set in `guarded_transport`.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]
_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


class CannotResolve(httpcore.ConnectError):
    """The host name has no address (httpx passes this on as the cause of its ConnectError)."""


class AddressRefused(Exception):
    """A connection the address policy forbids; the message names the host and the address."""

    def __init__(self, host: str, address: str, reason: str) -> None:
        super().__init__(f"{host} resolves to {address}, {reason}" if host != address else
                         f"{address} is {reason}")  # fmt: skip
        self.host, self.address, self.reason = host, address, reason


def forbidden(address: str) -> str | None:
    """Why an address is off limits (an article of "a ... address"), or None when it is public."""
    ip: IPAddress = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if ip in _METADATA:
        return "a link-local address (the cloud metadata service)"
    for label, test in (
        ("a loopback", ip.is_loopback), ("a link-local", ip.is_link_local),
        ("a multicast", ip.is_multicast), ("an unspecified", ip.is_unspecified),
        ("a reserved", ip.is_reserved), ("a private", ip.is_private),
        ("a non-public", not ip.is_global),
    ):  # fmt: skip
        if test:
            return f"{label} address"
    return None


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


async def system_resolver(host: str, port: int) -> list[str]:
    """Addresses for a host name through the event loop's getaddrinfo (in order, unique)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class AddressPolicy:
    """Public addresses only, except for hosts the configuration names (`exempt`)."""

    def __init__(self, resolver: Resolver | None = None, timeout_s: float = 10.0) -> None:
        self._resolver = resolver or system_resolver
        self.timeout_s = timeout_s
        self.exempt: set[str] = set()  # every configured host of every outlet (lower case)

    async def resolve(self, host: str, port: int) -> list[str]:
        """Raises OSError (socket.gaierror) or TimeoutError when the name does not resolve."""
        if _is_ip(host):
            return [host]
        async with asyncio.timeout(self.timeout_s):
            return await self._resolver(host, port)

    async def check(self, host: str, port: int, exempt: Iterable[str] = ()) -> list[str]:
        """The host's addresses, or AddressRefused naming the first forbidden one. A host in
        `exempt` may resolve anywhere: the configuration chose it."""
        addresses = await self.resolve(host, port)
        if host.lower() not in exempt:
            for address in addresses:
                reason = forbidden(address)
                if reason is not None:
                    raise AddressRefused(host, address, reason)
        return addresses


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's own backend, connecting only to addresses the policy has just checked. TLS
    is started by httpcore afterwards with the host name, so certificates are verified as usual."""

    def __init__(self, policy: AddressPolicy) -> None:
        self._policy = policy
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await self._policy.check(host, port, self._policy.exempt)
        except (OSError, TimeoutError) as exc:
            raise CannotResolve(f"cannot resolve {host}: {exc or 'timed out'}") from exc
        error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc  # the next address may answer (IPv6 then IPv4)
        assert error is not None
        raise error

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every client of the process: making one reads the whole CA bundle
    (about 0.2 s of CPU), and each pass, check and revisit makes a client. A context is only
    read once made, so the clients can share it."""
    return httpx.create_ssl_context()


def guarded_transport(policy: AddressPolicy, limits: httpx.Limits) -> httpx.AsyncHTTPTransport:
    """httpx's transport with its connection pool rebuilt on the guarded backend."""
    transport = httpx.AsyncHTTPTransport(limits=limits, verify=_tls())
    transport._pool = httpcore.AsyncConnectionPool(  # noqa: SLF001 - see the module docstring
        ssl_context=_tls(),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        http1=True,
        http2=False,
        network_backend=GuardedBackend(policy),
    )
    return transport
