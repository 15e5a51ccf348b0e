"""Hosts and ports named by configuration values (URLs, `host:port` lists, bare host names)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping

from urr_audit.model.k8s_types import _int

# --- host / endpoint parsing -----------------------------------------------------------------

_URL = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*(?::[A-Za-z][A-Za-z0-9+.\-]*)*)://(?P<authority>[^/\s?#\"']*)")
_HOSTPORT = re.compile(r"^(?P<host>[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?):(?P<port>\d{1,5})$")
_HOSTNAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*$")
DEFAULT_HOST_KEYS = (
    r"(?i)(^|_)(HOST|HOSTNAME|SERVER|SERVERS|ADDR|ADDRESS|ADDRESSES|ENDPOINT|BROKERS?|BOOTSTRAP_SERVERS)$"
)


def is_unspecified(host: str) -> bool:
    """`0.0.0.0`, `::`, `*`: every local address, what a listener binds to; never a place
    anyone dials."""
    if host in ("*", ""):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False


def _split_hostport(item: str) -> tuple[str, int | None] | None:
    item = item.strip()
    if not item:
        return None
    if item.startswith("["):  # [v6]:port
        host, _, rest = item[1:].partition("]")
        port = _int(rest[1:]) if rest.startswith(":") else None
        return host, port
    m = _HOSTPORT.match(item)
    if m:
        return m.group("host"), int(m.group("port"))
    if _HOSTNAME.match(item):
        return item, None
    return None


def parse_endpoints(
    variable: str,
    value: str,
    *,
    host_keys: str = DEFAULT_HOST_KEYS,
    scheme_ports: Mapping[str, int] | None = None,
) -> list[tuple[str, int | None, str | None]]:
    """(host, port, scheme) for each host a config value names.

    Recognised: URLs (`jdbc:postgresql://db:5432/x`, `redis://cache:6379`,
    `PLAINTEXT://a:9092,b:9092`), `host:port` lists (Kafka bootstrap servers), and a bare host
    when the variable name says it holds one (`host_keys`). Multi-line values (files) are not
    read. A URL without a port gets `scheme_ports[scheme]`, if given. Bind addresses
    (`0.0.0.0:9092`, `PLAINTEXT://:9092`, `[::]:8080`) name no host and are left out.
    """
    scheme_ports = scheme_ports or {}
    if "\n" in value:
        return []
    out: list[tuple[str, int | None, str | None]] = []
    urls = list(_URL.finditer(value))
    if urls:
        for m in urls:
            scheme = m.group("scheme").lower()
            authority = m.group("authority").rsplit("@", 1)[-1]
            for item in authority.split(","):
                hp = _split_hostport(item)
                if hp and hp[0] and not is_unspecified(hp[0]):
                    out.append((hp[0], hp[1] if hp[1] is not None else scheme_ports.get(scheme), scheme))
        return out
    items = [i for i in value.split(",") if i.strip()]
    if items and all(_HOSTPORT.match(i.strip()) for i in items):
        for i in items:
            hm = _HOSTPORT.match(i.strip())
            assert hm
            if not is_unspecified(hm.group("host")):
                out.append((hm.group("host"), int(hm.group("port")), None))
        return out
    host = value.strip()
    if re.search(host_keys, variable) and _HOSTNAME.match(host) and not host.isdigit() and not is_unspecified(host):
        out.append((value.strip(), None, None))
    return out
