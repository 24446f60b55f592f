"""Where students find the app: this machine's IPv4 addresses (read from its interfaces: nothing is sent),
the URLs other machines can open for a server bound to an address, and the address the Class view's QR
code carries (`class_url`), or a lesson's link on it."""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
from urllib.parse import quote, urlsplit

SERVE_URL_ENV = "AEVIZ_SERVE_URL"  # set by `aeviz serve`: the address students use (the Class view's QR code)
DEFAULT_PORT = 8501
EVERY_INTERFACE = ("0.0.0.0", "::", "")
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
# Interfaces of containers and virtual machines on this host: students on the network cannot reach them.
VIRTUAL_PREFIXES = ("lo", "docker", "br-", "veth", "virbr", "cni", "flannel", "podman", "vmnet", "zt")


def interface_addresses() -> list[tuple[str, str]]:
    """(interface name, IPv4 address) for each address of this machine, read from its interfaces (psutil
    where installed, else Linux's SIOCGIFADDR): nothing is sent. Elsewhere, what the host name resolves to."""
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        return [(name, entry.address) for name, entries in psutil.net_if_addrs().items()
                for entry in entries if entry.family == socket.AF_INET]
    if sys.platform.startswith("linux"):
        return _linux_addresses()
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        return []
    return [("", info[4][0]) for info in infos]


def _linux_addresses() -> list[tuple[str, str]]:
    import fcntl
    import struct

    found = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:  # only a handle for ioctl: never sends
        for _, name in socket.if_nameindex():
            try:
                reply = fcntl.ioctl(probe.fileno(), 0x8915, struct.pack("256s", name.encode()[:15]))  # SIOCGIFADDR
            except OSError:  # an interface without an IPv4 address
                continue
            found.append((name, socket.inet_ntoa(reply[20:24])))
    return found


def network_addresses(interfaces: list[tuple[str, str]] | None = None) -> list[str]:
    """This machine's IPv4 addresses that other machines on the network may reach, most likely first: private
    LAN ranges, then others, then link-local; loopback and container or VM bridges left out."""
    interfaces = interface_addresses() if interfaces is None else interfaces
    addresses = []
    for name, text in interfaces:
        address = ipaddress.IPv4Address(text)
        if address.is_loopback or address.is_unspecified or name.startswith(VIRTUAL_PREFIXES):
            continue
        if text not in addresses:
            addresses.append(text)
    return sorted(addresses, key=_preference)


def _preference(text: str) -> tuple[int, int]:
    address = ipaddress.IPv4Address(text)
    if address.is_link_local:
        return (3, int(address))
    for rank, network in enumerate(("192.168.0.0/16", "10.0.0.0/8", "172.16.0.0/12")):
        if address in ipaddress.IPv4Network(network):
            return (0, rank)
    return (1 if address.is_private else 2, int(address))


def url(host: str, port: int) -> str:
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{port}"


def student_urls(address: str, port: int, interfaces: list[tuple[str, str]] | None = None) -> list[str]:
    """The URLs other machines can open for a server bound to `address`: one per network address when it is
    bound to every interface, none when it is bound to this machine only (loopback)."""
    if address in EVERY_INTERFACE:
        return [url(host, port) for host in network_addresses(interfaces)]
    if address in LOOPBACK_NAMES or _is_loopback(address):
        return []
    return [url(address, port)]


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def class_url(browser_url: str, bind_address: str | None = None, port: int = DEFAULT_PORT) -> tuple[str, bool]:
    """(the app's address for the Class view's QR code, whether other machines can open it): what
    `aeviz serve` set ($AEVIZ_SERVE_URL), else the browser's if it is not this machine's loopback, else the
    first network address when the server listens on every interface, else the browser's."""
    served = os.environ.get(SERVE_URL_ENV, "").strip().rstrip("/")
    if served:
        return served, True
    parts = urlsplit(browser_url)
    origin = f"{parts.scheme or 'http'}://{parts.netloc}" if parts.netloc else url("localhost", port)
    if parts.hostname and not (parts.hostname in LOOPBACK_NAMES or _is_loopback(parts.hostname)):
        return origin, True
    if bind_address in EVERY_INTERFACE or bind_address is None:
        reachable = student_urls("0.0.0.0", port)
        if reachable:
            return reachable[0], True
    return origin, False


def lesson_url(base: str, lesson_id: str) -> str:
    """The link that opens a lesson on the Lessons page."""
    return f"{base.rstrip('/')}/lessons?lesson={quote(lesson_id)}"
