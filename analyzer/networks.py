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


def client_address(*, remote_addr: str, forwarded_for: str, trusted: Iterable[Network]) -> str:
    """Return the client's address: the peer, or who a trusted proxy says it forwards for.

    X-Forwarded-For is read from the right, the end the proxies nearest to us appended; each hop
    is believed only while the address before it is a trusted proxy, so a client cannot name
    itself someone else by writing the header.
    """
    trusted = list(trusted)
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    address = remote_addr
    while hops and address_in(address, trusted):
        address = hops.pop()
    return address
