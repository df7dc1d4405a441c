from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.config import Settings


def test_defaults_are_local_mode_on_embedded_sqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HYPERCARE_DATABASE_URL", "HYPERCARE_ALLOWED_TENANTS", "MicrosoftAppId"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert settings.database_url == "sqlite+aiosqlite:///./hypercare.db"
    assert settings.local_mode is True
    assert settings.allowed_tenants == frozenset()
    assert settings.tenant_allowed(None) is True
    assert (settings.host, settings.port) == ("127.0.0.1", 3978)


def test_environment_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HYPERCARE_DATABASE_URL", "postgresql://u@db:5432/hc")
    monkeypatch.setenv("HYPERCARE_ALLOWED_TENANTS", " Tenant-A , tenant-b,, ")
    monkeypatch.setenv("MicrosoftAppId", "app-123")
    monkeypatch.setenv("MicrosoftAppPassword", "s3cret")
    monkeypatch.setenv("MicrosoftAppType", "SingleTenant")
    monkeypatch.setenv("MicrosoftAppTenantId", "tenant-a")
    settings = Settings(_env_file=None)
    assert settings.database_url == "postgresql+asyncpg://u@db:5432/hc"
    assert settings.allowed_tenants == frozenset({"tenant-a", "tenant-b"})
    assert settings.tenant_allowed("TENANT-A") and not settings.tenant_allowed("tenant-c")
    assert not settings.tenant_allowed(None)
    assert settings.local_mode is False
    assert settings.microsoft_app_password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)
    assert settings.microsoft_app_type == "SingleTenant"


def test_bad_values_are_refused_with_the_field_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HYPERCARE_PORT", "99999")
    with pytest.raises(ValidationError, match="port"):
        Settings(_env_file=None)
    monkeypatch.delenv("HYPERCARE_PORT")
    monkeypatch.setenv("MicrosoftAppType", "Whatever")
    with pytest.raises(ValidationError, match="MultiTenant"):
        Settings(_env_file=None)


PRODUCTION = dict(
    env="production",
    microsoft_app_id="app-123",
    microsoft_app_password="s3cret",
    allowed_tenants="tenant-a",
    chart_secret="c" * 32,
    public_url="https://hypercare.contoso.example",
    metrics_token="m" * 32,
    _env_file=None,
)


def test_a_complete_production_configuration_has_no_problems() -> None:
    assert Settings(**PRODUCTION).production_problems() == []
    assert Settings(**PRODUCTION | {"microsoft_app_type": "SingleTenant", "microsoft_app_tenant_id": "tenant-a"}).production_problems() == []


def test_production_without_metrics_needs_no_metrics_token() -> None:
    assert Settings(**PRODUCTION | {"metrics_token": "", "metrics_enabled": False}).production_problems() == []


def test_a_user_assigned_managed_identity_needs_no_password() -> None:
    managed = PRODUCTION | {"microsoft_app_type": "UserAssignedMSI", "microsoft_app_password": "", "microsoft_app_tenant_id": "tenant-a"}
    assert Settings(**managed).production_problems() == []


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"microsoft_app_id": ""}, "MicrosoftAppId must be set"),
        ({"microsoft_app_password": ""}, "MicrosoftAppPassword must be set"),
        ({"microsoft_app_type": "SingleTenant"}, "MicrosoftAppTenantId must be set with MicrosoftAppType=SingleTenant"),
        (
            {"microsoft_app_type": "UserAssignedMSI", "microsoft_app_password": ""},
            "MicrosoftAppTenantId must be set with MicrosoftAppType=UserAssignedMSI",
        ),
        ({"allowed_tenants": ""}, "HYPERCARE_ALLOWED_TENANTS must name the tenants"),
        ({"chart_secret": ""}, "HYPERCARE_CHART_SECRET must be set"),
        ({"chart_secret": "short"}, "HYPERCARE_CHART_SECRET must be at least 32 characters"),
        ({"public_url": ""}, "HYPERCARE_PUBLIC_URL must be"),
        ({"public_url": "http://hypercare.contoso.example"}, "HYPERCARE_PUBLIC_URL must be"),
        ({"metrics_token": ""}, "HYPERCARE_METRICS_TOKEN must be set"),
    ],
)
def test_production_names_each_missing_piece(changes: dict[str, str], problem: str) -> None:
    problems = Settings(**PRODUCTION | changes).production_problems()
    assert len(problems) == 1 and problems[0].startswith(problem), problems


def test_trusted_service_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "smba.trafficmanager.net" in Settings(_env_file=None).trusted_service_hosts
    monkeypatch.setenv("HYPERCARE_TRUSTED_SERVICE_HOSTS", " SMBA.TrafficManager.net. , smba.teams.sovcloud-core.fr,, 127.0.0.1 ")
    assert Settings(_env_file=None).trusted_service_hosts == frozenset(
        {"smba.trafficmanager.net", "smba.teams.sovcloud-core.fr", "127.0.0.1"}
    )
    for bad in ("https://smba.trafficmanager.net/", "*.botframework.com", "net", "smba.trafficmanager.net/amer", "a b.example"):
        monkeypatch.setenv("HYPERCARE_TRUSTED_SERVICE_HOSTS", bad)
        with pytest.raises(ValidationError, match="trusted_service_hosts"):
            Settings(_env_file=None)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost", "LOCALHOST"])
def test_local_mode_listens_on_loopback(host: str) -> None:
    assert Settings(_env_file=None).listen_problem(host) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "", "::", "192.168.1.5", "bot.contoso.example", "localhost.evil.example"])
def test_local_mode_refuses_any_other_address_unless_told(host: str) -> None:
    problem = Settings(_env_file=None).listen_problem(host)
    assert problem is not None and "HYPERCARE_ALLOW_UNAUTHENTICATED=true" in problem and "MicrosoftAppId" in problem
    assert Settings(allow_unauthenticated=True, _env_file=None).listen_problem(host) is None
    assert Settings(microsoft_app_id="app-123", _env_file=None).listen_problem(host) is None
