"""The broker side of the live mirror: broker URLs and the paho-mqtt clients built from them.

A broker URL is ``mqtt://[USER[:PASSWORD]@]HOST[:PORT]`` (plain TCP, default port 1883) or
``mqtts://...`` (TLS, default port 8883; ``?ca=FILE`` names a CA bundle instead of the
system's, ``?insecure=1`` skips the host-name check for self-signed test brokers). User and
password are percent-decoded. :class:`BrokerURL` never shows the password: its ``str`` and
``repr`` put ``***`` in its place, so a log line or a traceback cannot leak it.

paho-mqtt (the ``mirror`` extra) is imported inside :func:`make_client`, so that ``twin.sync``
stays importable without it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

if TYPE_CHECKING:
    import paho.mqtt.client as mqtt

__all__ = [
    "MIRROR_RECONNECT_MAX_S",
    "RECONNECT_MAX_S",
    "RECONNECT_MIN_S",
    "BrokerURL",
    "make_client",
    "parse_broker_url",
]

RECONNECT_MIN_S = 0.1
"""First wait before reconnecting to a lost broker (seconds); doubled on every failure..."""

RECONNECT_MAX_S = 5.0
"""...up to this (seconds), so a restarted broker is found again within a few seconds."""

MIRROR_RECONNECT_MAX_S = 1.0
"""The mirror's cap: it is back (and subscribed) within a second of the broker, before a
sender backing off up to :data:`RECONNECT_MAX_S` is likely to be."""

_PORTS = {"mqtt": 1883, "mqtts": 8883}
_TRUE = {"1", "true", "yes"}


@dataclass(frozen=True)
class BrokerURL:
    """Where the broker is and how to log in; ``password`` is kept out of ``str`` and ``repr``."""

    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: Path | None = None
    insecure: bool = False

    def __str__(self) -> str:
        scheme = "mqtts" if self.tls else "mqtt"
        login = ""
        if self.username is not None:
            login = self.username + (":***" if self.password is not None else "") + "@"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{login}{host}:{self.port}"

    def __repr__(self) -> str:
        return f"BrokerURL({str(self)!r})"


def parse_broker_url(text: str) -> BrokerURL:
    """Read a broker URL (module docstring).

    Raises:
        ValueError: an unknown scheme, no host, a port out of range, a path or an unknown
            query key, naming the part that is wrong (never the password).
    """
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError as error:
        raise ValueError(f"--broker: not a broker URL ({error})") from None
    scheme = parts.scheme.lower()
    if scheme not in _PORTS:
        raise ValueError(f"--broker: scheme must be mqtt:// or mqtts:// (got {scheme + '://' if scheme else 'none'})")
    if not parts.hostname:
        raise ValueError("--broker: no host name (got an empty host)")
    if port == 0:
        raise ValueError("--broker: port must be between 1 and 65535 (got 0)")
    if parts.path not in ("", "/") or parts.fragment:
        raise ValueError(f"--broker: a broker URL has no path (got {parts.path or '#' + parts.fragment})")
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - {"ca", "insecure"})
    if unknown:
        raise ValueError(f"--broker: unknown query key (got {', '.join(unknown)}); use ca=FILE or insecure=1")
    if not parts.scheme.lower().endswith("s") and query:
        raise ValueError("--broker: ca= and insecure= need TLS (use mqtts://)")
    ca = Path(query["ca"][-1]) if "ca" in query else None
    if ca is not None and not ca.is_file():
        raise ValueError(f"--broker: ca: no such file (got {ca})")
    return BrokerURL(
        host=parts.hostname,
        port=port or _PORTS[scheme],
        tls=scheme == "mqtts",
        username=None if parts.username is None else unquote(parts.username),
        password=None if parts.password is None else unquote(parts.password),
        ca_file=ca,
        insecure=query.get("insecure", ["0"])[-1].lower() in _TRUE,
    )


def make_client(
    url: BrokerURL, client_id: str, persistent: bool, reconnect_max_s: float = RECONNECT_MAX_S
) -> mqtt.Client:
    """A paho-mqtt 2.x client (MQTT 3.1.1) for ``url``, with its login, TLS and reconnect
    backoff set, not yet connected.

    ``persistent`` asks the broker to keep the session (``clean_session=False``): its
    subscriptions, and the QoS 1 messages that come while the client is away, are waiting
    when it reconnects. ``reconnect_max_s`` caps the doubling wait between attempts.
    """
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=not persistent,
        protocol=mqtt.MQTTv311,
    )
    if url.username is not None:
        client.username_pw_set(url.username, url.password)
    if url.tls:
        client.tls_set(ca_certs=None if url.ca_file is None else str(url.ca_file))
        client.tls_insecure_set(url.insecure)
    client.reconnect_delay_set(min_delay=RECONNECT_MIN_S, max_delay=reconnect_max_s)  # type: ignore[arg-type]
    return client
