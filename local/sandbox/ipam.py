"""IPv4 address arithmetic the way Azure applies it to VNets and subnets."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator

IPv4Net = ipaddress.IPv4Network

#: Azure keeps the network address, the default gateway (.1), two DNS addresses (.2, .3) and the broadcast.
RESERVED_LEADING = 4


def parse_cidr(text: str) -> IPv4Net:
    """Parse a CIDR with host bits zero; ``ValueError`` otherwise (Azure rejects ``10.0.0.5/24``)."""
    return ipaddress.IPv4Network(text, strict=True)


def canonical_cidr(text: str) -> str | None:
    """The network Azure would have wanted for ``text`` (``10.0.0.0/24`` for ``10.0.0.5/24``), or None."""
    try:
        return str(ipaddress.IPv4Network(text, strict=False))
    except ValueError:
        return None


def overlaps(a: Iterable[IPv4Net], b: Iterable[IPv4Net]) -> tuple[IPv4Net, IPv4Net] | None:
    """The first overlapping pair between two sets of networks, or None."""
    second = list(b)
    for x in a:
        for y in second:
            if x.overlaps(y):
                return x, y
    return None


def within_any(net: IPv4Net, spaces: Iterable[IPv4Net]) -> bool:
    """True when ``net`` lies wholly inside one of ``spaces``."""
    return any(net.subnet_of(space) for space in spaces)


def usable_hosts(net: IPv4Net) -> Iterator[ipaddress.IPv4Address]:
    """Addresses Azure hands out in a subnet: all but the first four and the last."""
    first = int(net.network_address) + RESERVED_LEADING
    last = int(net.broadcast_address) - 1
    for value in range(first, last + 1):
        yield ipaddress.IPv4Address(value)


def is_usable(net: IPv4Net, address: str) -> bool:
    """True when ``address`` is a valid, non-reserved host address of ``net``."""
    try:
        ip = ipaddress.IPv4Address(address)
    except ValueError:
        return False
    return ip in net and int(net.network_address) + RESERVED_LEADING <= int(ip) < int(net.broadcast_address)


def is_ipv4(text: str) -> bool:
    """True for a dotted-quad IPv4 address."""
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True
