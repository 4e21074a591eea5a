"""Broker URLs: what is accepted, what is refused and why, and that no form of the URL
shows the password."""

from __future__ import annotations

from pathlib import Path

import pytest

from twin.sync.mirror_broker import BrokerURL, make_client, parse_broker_url


def test_plain_url_gets_the_default_port() -> None:
    url = parse_broker_url("mqtt://127.0.0.1")
    assert (url.host, url.port, url.tls, url.username, url.password) == ("127.0.0.1", 1883, False, None, None)
    assert str(url) == "mqtt://127.0.0.1:1883"


def test_tls_url_with_login_keeps_the_password_out_of_every_text() -> None:
    url = parse_broker_url("mqtts://plant%40floor:s3cr%2Ft@broker.example:8884")
    assert (url.host, url.port, url.tls) == ("broker.example", 8884, True)
    assert (url.username, url.password) == ("plant@floor", "s3cr/t")
    for text in (str(url), repr(url), f"{url}", str([url])):
        assert "s3cr" not in text
    assert str(url) == "mqtts://plant@floor:***@broker.example:8884"
    assert parse_broker_url("mqtts://broker.example").port == 8883


def test_ca_file_and_insecure(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("not read here")
    url = parse_broker_url(f"mqtts://h?ca={ca}&insecure=1")
    assert (url.ca_file, url.insecure) == (ca, True)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("http://h:1883", "scheme must be mqtt:// or mqtts:// (got http://)"),  # a web URL
        ("127.0.0.1:1883", "scheme must be mqtt:// or mqtts://"),  # no scheme at all
        ("mqtt://:1883", "no host name"),  # port without host
        ("mqtt://h:99999", "not a broker URL"),  # port out of range
        ("mqtt://h:0", "port must be between 1 and 65535 (got 0)"),  # port zero
        ("mqtt://h/plant/events", "has no path (got /plant/events)"),  # a topic put in the URL
        ("mqtts://h?cafile=x", "unknown query key (got cafile)"),  # misspelt option
        ("mqtt://h?insecure=1", "need TLS"),  # TLS option on plain TCP
        ("mqtts://h?ca=/no/such/ca.pem", "ca: no such file (got /no/such/ca.pem)"),  # missing CA
    ],
)
def test_bad_urls_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=r"^--broker: ") as error:
        parse_broker_url(text)
    assert message in str(error.value)


def test_a_bad_url_never_echoes_the_password() -> None:
    with pytest.raises(ValueError) as error:
        parse_broker_url("mqtt://user:hunter2@h:123456")
    assert "hunter2" not in str(error.value)


def test_client_carries_login_and_session() -> None:
    client = make_client(BrokerURL("127.0.0.1", 1883, username="u", password="p"), "twin-test", persistent=True)
    assert client._username == b"u" and client._password == b"p"
    assert client._clean_session is False
