"""IP addresses and networks named in settings, and whether a client is among them."""

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks_parse(entries: Iterable[str], *, setting: str) -> list[Network]:
    """Return the networks of a setting's entries (a bare address is a /32 or /128).

    Raises ValueError naming the setting and the entry that is neither.
    """
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as error:
            raise ValueError(f"{setting}: {entry!r} is not an IP address or network") from error
    return networks


def address_in(address: str, networks: Iterable[Network]) -> bool:
    """Return whether address lies in one of the networks; False when it is no address."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    # A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d.
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped:
        parsed = parsed.ipv4_mapped
    return any(parsed in network for network in networks)
