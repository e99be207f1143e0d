"""The network a client address counts as, wherever requests are counted by address:
Flask-Limiter's limits and sign-in throttling (services/login_throttle).

An IPv4 address is one client (or one NAT). An IPv6 client is usually given a whole
/64 and can pick any address inside it, so counting by address would let it rotate
past every cap: IPv6 addresses count by their /64.
"""

import ipaddress

from flask import request


def network_of(address: str) -> str:
    """An IPv4 address as it is (198.51.100.7), an IPv6 one as its /64
    (2001:db8:1:2::7 is 2001:db8:1:2::/64), and an IPv4 address written as IPv6
    (::ffff:198.51.100.7) as the IPv4 one."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address[:64]  # not an address (a test client, a broken proxy): as given
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip)


def client_network() -> str:
    """The requesting client's network: Flask-Limiter's key."""
    return network_of(request.remote_addr or "127.0.0.1")
