"""Where a webhook may be sent (the SSRF guard): the one decision that the dashboard form, the
API serializer, the endpoint service and the sender share.

A host is read the way resolvers and browsers read it, so that no spelling of a local address
gets through: IPv4 in every ``inet_aton`` form (``0x7f000001``, ``2130706433``, ``127.1``,
``0177.0.0.1``, a trailing dot), IDNA look-alikes (full-width digits), IPv6 with an IPv4 address
inside (mapped, compatible, NAT64, 6to4, Teredo: the embedded address is judged by the IPv4
rules), and the names that never mean a public host (``localhost``, ``*.localhost``, ``*.local``,
``*.internal``, names without a dot). No DNS here at validation: a name's addresses can change,
so the sender resolves and checks every address just before it connects, and connects to the
address it checked (apps.webhooks.sending).
"""

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# http:// is allowed to these only, and only when local targets are (development, tests).
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

# Names that never mean a public host (RFC 6761 localhost, RFC 6762 .local, RFC 8375 home.arpa,
# ICANN's .internal, the common .localdomain).
LOCAL_NAME_SUFFIXES = ("localhost", "local", "internal", "home.arpa", "localdomain")

_HOST_CHARACTERS = re.compile(r"[a-z0-9_.-]+")
_IPV4_PART = re.compile(r"0x[0-9a-f]*|[0-9]+")


def local_targets_allowed() -> bool:
    """Development and tests (``WEBHOOKS_ALLOW_HTTP``, on with ``DEBUG``): http:// to this
    machine and private addresses are allowed. Production: https and public addresses only."""
    return bool(settings.WEBHOOKS_ALLOW_HTTP)


class TargetRefused(Exception):
    """The URL may not be called: wrong scheme, credentials in it, or a non-public address."""


@dataclass(frozen=True)
class Verdict:
    """Why an address or name is not public: ``kind`` in words; ``never`` even in development."""

    kind: str
    never: bool = False

    def allows(self, *, allow_local: bool) -> bool:
        return allow_local and not self.never


def _networks(*rows: tuple[str, str, bool]) -> list[tuple[Network, Verdict]]:
    return [(ipaddress.ip_network(net), Verdict(kind, never)) for net, kind, never in rows]


# Spelled out rather than left to ``is_global``, whose tables differ between Python versions.
_IPV4_SPECIAL = _networks(
    ("0.0.0.0/8", "unspecified", True),  # 0.0.0.0 reaches this machine on Linux
    ("10.0.0.0/8", "private", False),
    ("100.64.0.0/10", "shared, carrier-grade NAT", False),
    ("127.0.0.0/8", "loopback", False),
    ("169.254.0.0/16", "link-local, cloud metadata", True),
    ("172.16.0.0/12", "private", False),
    ("192.0.0.0/24", "IETF protocol assignments", False),
    ("192.0.2.0/24", "documentation", False),
    ("192.88.99.0/24", "6to4 relay", False),
    ("192.168.0.0/16", "private", False),
    ("198.18.0.0/15", "benchmarking", False),
    ("198.51.100.0/24", "documentation", False),
    ("203.0.113.0/24", "documentation", False),
    ("224.0.0.0/4", "multicast", True),
    ("240.0.0.0/4", "reserved", True),  # with 255.255.255.255, broadcast
)
_IPV6_SPECIAL = _networks(
    ("::/128", "unspecified", True),
    ("::1/128", "loopback", False),
    ("64:ff9b:1::/48", "local-use NAT64", False),
    ("100::/64", "discard", False),
    ("2001:db8::/32", "documentation", False),
    ("3fff::/20", "documentation", False),
    ("fc00::/7", "private, unique local", False),
    ("fe80::/10", "link-local", True),
    ("fec0::/10", "site-local", False),
    ("ff00::/8", "multicast", True),
)
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[str, list[ipaddress.IPv4Address]] | None:
    """The IPv4 addresses an IPv6 address carries, and the mechanism's name; None if none."""
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
    if ip.ipv4_mapped is not None:
        return "IPv4-mapped", [ip.ipv4_mapped]
    if ip in _IPV4_COMPATIBLE:
        return "IPv4-compatible", [low32]
    if ip in _IPV4_TRANSLATED:
        return "IPv4-translated", [low32]
    if ip in _NAT64:
        return "NAT64", [low32]
    if ip.sixtofour is not None:
        return "6to4", [ip.sixtofour]
    if ip.teredo is not None:
        return "Teredo", list(ip.teredo)
    return None


def address_verdict(ip: IPAddress) -> Verdict | None:
    """None if ``ip`` is a public address; otherwise what it is."""
    if isinstance(ip, ipaddress.IPv6Address):
        ip = ipaddress.IPv6Address(int(ip))  # without a %zone
        for network, verdict in _IPV6_SPECIAL[:2]:  # :: and ::1 before the IPv4-compatible /96
            if ip in network:
                return verdict
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            mechanism, addresses = embedded
            for v4 in addresses:
                inner = address_verdict(v4)
                if inner is not None:
                    return Verdict(f"{inner.kind}, {v4} inside {mechanism}", inner.never)
            return None
        table: list[tuple[Network, Verdict]] = _IPV6_SPECIAL
    else:
        table = _IPV4_SPECIAL
    for network, verdict in table:
        if ip in network:
            return verdict
    return None if ip.is_global else Verdict("reserved")


def ipv4_parse(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address ``host`` spells as resolvers (``inet_aton``) and browsers (WHATWG URL)
    read it — hex, octal, one to four parts, a trailing dot — or None if it is a name. Raises
    ValueError for a host that ends in a number but is no address (browsers refuse those too)."""
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    if not _IPV4_PART.fullmatch(parts[-1]):
        return None
    if len(parts) > 4 or not all(_IPV4_PART.fullmatch(p) for p in parts):
        raise ValueError(host)
    numbers = [_ipv4_number(p) for p in parts]
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        raise ValueError(host)
    return ipaddress.IPv4Address(sum(n << (8 * (3 - i)) for i, n in enumerate(head)) + last)


def _ipv4_number(part: str) -> int:
    if part.startswith("0x"):
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part[1:], 8)  # ValueError for 08, 09
    return int(part)


def name_verdict(name: str) -> Verdict | None:
    """None if ``name`` (ASCII, lower case, no trailing dot) may be a public host name."""
    for suffix in LOCAL_NAME_SUFFIXES:
        if name == suffix or name.endswith("." + suffix):
            return Verdict("this machine" if suffix == "localhost" else f"a local name (.{suffix})")
    if "." not in name:
        # Resolved through the search domains: in a cluster, `redis`, `web`, `kubernetes`.
        return Verdict("a name without a domain, resolved on the local network")
    return None


def host_address(host: str) -> IPAddress | None:
    """The address a URL's host (``urlsplit(url).hostname``) is, in whatever spelling; None for
    a name. Raises ValueError for a host no resolver would accept."""
    if ":" in host:
        return ipaddress.IPv6Address(host)
    try:
        ascii_host = host.encode("idna").decode("ascii")  # as socket.getaddrinfo encodes it
    except UnicodeError as exc:
        raise ValueError(host) from exc
    if not _HOST_CHARACTERS.fullmatch(ascii_host.lower()):
        raise ValueError(host)
    return ipv4_parse(ascii_host.lower())


def url_problem(url: str, *, allow_local: bool) -> str | None:
    """Why ``url`` cannot be a webhook endpoint (from the URL alone, no DNS), or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return "The URL is not valid."
    host = (parts.hostname or "").lower()
    if not host:
        return "The URL needs a host name."
    if parts.username or parts.password:
        return "Put no user name or password in the URL; check the signature instead."
    if parts.scheme == "http":
        if not (allow_local and host in LOCAL_HOSTS):
            return "The URL must start with https://."
    elif parts.scheme != "https":
        return "The URL must start with https://."
    try:
        address = host_address(host)
    except ValueError:
        return f"The host {host} is not a valid host name or address."
    if address is not None:
        verdict = address_verdict(address)
        if verdict is None or verdict.allows(allow_local=allow_local):
            return None
        spelled = "" if host == str(address) else f" (written {host})"
        return (
            f"The URL points to {address}{spelled}, a private or reserved address "
            f"({verdict.kind}); webhooks go to public addresses only."
        )
    verdict = name_verdict(host.encode("idna").decode("ascii").lower().rstrip("."))
    if verdict is None or verdict.allows(allow_local=allow_local):
        return None
    return (
        f"The host {host} is {verdict.kind}, not a public host name; "
        "webhooks go to public hosts only."
    )


def target_resolve(url: str, *, allow_local: bool) -> str:
    """The address to connect to: the URL must pass ``url_problem``, every address the host
    resolves to must be public, and the request is then pinned to the first one (no second
    look-up an attacker could rebind)."""
    problem = url_problem(url, allow_local=allow_local)
    if problem:
        raise TargetRefused(problem)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise TargetRefused(f"The host {host} cannot be resolved.") from exc
    addresses = [str(info[4][0]).split("%", 1)[0] for info in infos]
    if not addresses:
        raise TargetRefused(f"The host {host} cannot be resolved.")
    for address in addresses:
        verdict = address_verdict(ipaddress.ip_address(address))
        if verdict is not None and not verdict.allows(allow_local=allow_local):
            raise TargetRefused(
                f"The host {host} resolves to {address}, a private or reserved address "
                f"({verdict.kind}); webhooks are sent to public addresses only."
            )
    return addresses[0]
