"""Which service URLs may receive the bot's token: https on a Bot Connector host, nothing that merely looks like one."""

from __future__ import annotations

import pytest

from bot.config import Settings
from bot.teams.connector import trusted_service_url

DEFAULT_HOSTS = Settings(_env_file=None).trusted_service_hosts


@pytest.mark.parametrize(
    "url",
    [
        "https://smba.trafficmanager.net/amer/",
        "https://smba.trafficmanager.net/emea/",
        "https://smba.trafficmanager.net/apac/",
        "https://smba.trafficmanager.net/teams/",
        "https://SMBA.TrafficManager.NET/amer/",
        "https://smba.trafficmanager.net./amer/",
        "https://smba.trafficmanager.net:443/amer/",
        "https://smba.onyx.prod.teams.trafficmanager.net/",
        "https://smba.infra.gcc.teams.microsoft.com/gcc/",
        "https://smba.infra.gov.teams.microsoft.us/gcch/",
        "https://smba.infra.dod.teams.microsoft.us/",
        "https://frontend.botapi.msg.infra.teams.microsoftonline.cn/",
        "https://webchat.botframework.com/",
        "https://europe.webchat.botframework.com/",
    ],
)
def test_bot_connector_hosts_over_https_are_trusted(url: str) -> None:
    assert trusted_service_url(url, DEFAULT_HOSTS)


@pytest.mark.parametrize(
    "url",
    [
        "http://smba.trafficmanager.net/amer/",  # cleartext
        "ws://smba.trafficmanager.net/amer/",
        "https://evilbotframework.com/",  # a suffix of the string, not a subdomain
        "https://botframework.com.evil.example/",
        "https://smba.trafficmanager.net.evil.example/",
        "https://smba.trafficmanager.net%2Eevil.example/",
        "https://smba.trafficmanager.net\u3002evil.example/",  # an ideographic full stop, IDNA-mapped to "."
        "https://attacker.trafficmanager.net/",  # any Azure customer can have one of these
        "https://smba.trafficmanager.net@evil.example/",  # user info, the host is evil.example
        "https://user:secret@smba.trafficmanager.net/",
        "https://evil.example\\@smba.trafficmanager.net/",
        "https://evil.example/smba.trafficmanager.net/",
        "https://evil.example/?next=https://smba.trafficmanager.net/",
        "//smba.trafficmanager.net/amer/",
        "smba.trafficmanager.net",
        "https://[::1/",
        "https://smba.trafficmanager.net:99999/",
        "",
        "http://127.0.0.1:3978/",  # loopback is trusted only when listed
        "http://localhost:3978/",
    ],
)
def test_everything_else_is_not(url: str) -> None:
    assert not trusted_service_url(url, DEFAULT_HOSTS)


def test_plain_http_only_to_a_listed_loopback_host() -> None:
    hosts = frozenset({"127.0.0.1", "localhost", "10.0.0.5", "bots.contoso.example"})
    assert trusted_service_url("http://127.0.0.1:56150/", hosts)
    assert trusted_service_url("http://localhost:3978/", hosts)
    assert trusted_service_url("https://127.0.0.1/", hosts)
    assert not trusted_service_url("http://127.0.0.2/", hosts)
    assert not trusted_service_url("http://x.127.0.0.1/", hosts)  # a name, not the listed address
    assert not trusted_service_url("https://x.10.0.0.5/", hosts)
    assert not trusted_service_url("http://10.0.0.5/", hosts)
    assert not trusted_service_url("http://bots.contoso.example/", hosts)
    assert trusted_service_url("https://eu.bots.contoso.example/", hosts)
    assert not trusted_service_url("https://smba.trafficmanager.net/amer/", hosts)  # the list replaces the default
