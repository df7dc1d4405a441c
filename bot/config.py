"""All configuration in one place: `HYPERCARE_*` variables plus the standard Bot Framework names."""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./hypercare.db"

# Where the Bot Connector lives (the hosts of Teams' serviceUrl), per cloud: the only hosts the bot's token goes to.
BOT_CONNECTOR_HOSTS = frozenset(
    {
        "smba.trafficmanager.net",  # Teams, public cloud (paths /amer/, /emea/, /apac/, /teams/ ...)
        "smba.onyx.prod.teams.trafficmanager.net",  # Teams, public cloud
        "smba.infra.gcc.teams.microsoft.com",  # Teams, GCC
        "smba.infra.gov.teams.microsoft.us",  # Teams, GCC High
        "smba.infra.dod.teams.microsoft.us",  # Teams, DoD
        "frontend.botapi.msg.infra.teams.microsoftonline.cn",  # Teams operated by 21Vianet
        "botframework.com",  # the Bot Framework's own channels (webchat., directline. ...)
    }
)
_HOST_NAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+")
MIN_CHART_SECRET_LENGTH = 32


def normalise_database_url(url: str) -> str:
    """Accept the URLs people paste (postgres://, sqlite:///) and pick the async driver for them."""
    for plain, async_prefix in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return async_prefix + url[len(plain) :]
    return url


def is_loopback(host: str) -> bool:
    """Reachable from this machine only: localhost or a loopback address (an empty host means every interface)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HYPERCARE_", env_file=".env", extra="ignore", populate_by_name=True
    )

    # "production" refuses to start without app credentials and a tenant allow-list.
    env: Literal["development", "production"] = "development"
    database_url: str = DEFAULT_DATABASE_URL
    # Comma-separated AAD tenant ids; empty means any tenant (the app warns at start).
    allowed_tenants: Annotated[frozenset[str], NoDecode] = frozenset()
    # AAD object ids of the first admins (who can then give roles with `roles add`).
    admins: Annotated[frozenset[str], NoDecode] = frozenset()
    host: str = "127.0.0.1"
    # Local mode (no app id) listens beyond loopback only when this says so: nothing authenticates its callers.
    allow_unauthenticated: bool = False
    port: int = Field(default=3978, ge=1, le=65535)
    # Reading the JSON body is refused beyond this (Teams activities are far smaller).
    max_body_bytes: int = 256 * 1024
    # How long a delivered activity id is remembered to drop Teams' re-deliveries.
    dedupe_retention_hours: int = Field(default=48, ge=1)
    # A user-editable parser vocabulary; empty = the one shipped in bot/domain/vocabulary.toml.
    vocabulary_path: Path | None = None
    # Bounded retries for Bot Connector calls made during a turn (replies, card updates).
    connector_max_attempts: int = Field(default=4, ge=1, le=10)
    connector_timeout_seconds: float = Field(default=10.0, gt=0)
    connector_retry_base_seconds: float = Field(default=0.5, ge=0)
    # How often the in-process scheduler ticks (reminders, stand-ups, outbox); 0 switches it off,
    # e.g. when `hypercare worker` runs it in its own process.
    scheduler_interval_seconds: float = Field(default=5.0, ge=0)
    log_level: str = "INFO"
    # "json": one JSON object per line (time, level, logger, message, request/activity/war room ids).
    log_format: Literal["text", "json"] = "text"
    # Prometheus metrics at /metrics (docs/deploy.md); with a token, only for `Authorization: Bearer TOKEN`.
    metrics_enabled: bool = True
    metrics_token: SecretStr = SecretStr("")
    # The bot's own public address, for links it puts on cards (the chart image); empty: http://HOST:PORT.
    public_url: str = ""
    # Signs chart links; set the same value on every replica (empty: a random secret per process).
    chart_secret: SecretStr = SecretStr("")
    # Where the Bot Framework publishes its token signing keys, and who may issue tokens to the bot.
    openid_metadata_url: str = "https://login.botframework.com/v1/.well-known/openidconfiguration"
    token_issuers: Annotated[frozenset[str], NoDecode] = frozenset({"https://api.botframework.com"})
    # Comma-separated hosts that may receive the bot's token (each also covers its subdomains), over https only;
    # a listed loopback host may also be plain http (the Emulator, tests). Replaces the default list.
    trusted_service_hosts: Annotated[frozenset[str], NoDecode] = BOT_CONNECTOR_HOSTS

    microsoft_app_id: str = Field(
        default="", validation_alias=AliasChoices("MicrosoftAppId", "HYPERCARE_MICROSOFT_APP_ID")
    )
    microsoft_app_password: SecretStr = Field(
        default=SecretStr(""),
        validation_alias=AliasChoices("MicrosoftAppPassword", "HYPERCARE_MICROSOFT_APP_PASSWORD"),
    )
    microsoft_app_type: str = Field(
        default="MultiTenant",
        validation_alias=AliasChoices("MicrosoftAppType", "HYPERCARE_MICROSOFT_APP_TYPE"),
    )
    microsoft_app_tenant_id: str = Field(
        default="",
        validation_alias=AliasChoices("MicrosoftAppTenantId", "HYPERCARE_MICROSOFT_APP_TENANT_ID"),
    )

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        return normalise_database_url(value)

    @field_validator("allowed_tenants", "admins", mode="before")
    @classmethod
    def _split_tenants(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(part.strip().lower() for part in value.split(",") if part.strip())
        if isinstance(value, (list, tuple, set, frozenset)):
            return frozenset(str(part).strip().lower() for part in value if str(part).strip())
        return value

    @field_validator("token_issuers", mode="before")
    @classmethod
    def _split_issuers(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("trusted_service_hosts", mode="before")
    @classmethod
    def _host_names(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        hosts = frozenset(part.strip().lower().rstrip(".") for part in value.split(",") if part.strip())
        for host in hosts:
            if not (_HOST_NAME.fullmatch(host) or is_loopback(host)):
                raise ValueError(f"{host!r} is not a host name with a domain (e.g. smba.trafficmanager.net, no scheme or path)")
        return hosts

    @field_validator("microsoft_app_type")
    @classmethod
    def _known_app_type(cls, value: str) -> str:
        allowed = {"MultiTenant", "SingleTenant", "UserAssignedMSI"}
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(sorted(allowed))}")
        return value

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def dedupe_retention(self) -> timedelta:
        return timedelta(hours=self.dedupe_retention_hours)

    @property
    def local_mode(self) -> bool:
        """No app id: no inbound auth and no outbound token, as the Emulator and Agents Playground expect."""
        return not self.microsoft_app_id

    def production_problems(self) -> list[str]:
        """Why this configuration must not serve real traffic (empty when it may)."""
        if self.env != "production":
            return []
        problems = []
        if self.local_mode:
            problems.append("MicrosoftAppId must be set")
        # A user-assigned managed identity has no secret: its token comes from the host it runs on.
        if self.microsoft_app_type != "UserAssignedMSI" and not self.microsoft_app_password.get_secret_value():
            problems.append("MicrosoftAppPassword must be set (or MicrosoftAppType=UserAssignedMSI)")
        if self.microsoft_app_type != "MultiTenant" and not self.microsoft_app_tenant_id:
            problems.append(f"MicrosoftAppTenantId must be set with MicrosoftAppType={self.microsoft_app_type}")
        if not self.allowed_tenants:
            problems.append("HYPERCARE_ALLOWED_TENANTS must name the tenants allowed to use the bot")
        secret = self.chart_secret.get_secret_value()
        if not secret:
            problems.append("HYPERCARE_CHART_SECRET must be set, the same on every replica (it signs chart links)")
        elif len(secret) < MIN_CHART_SECRET_LENGTH:
            problems.append(f"HYPERCARE_CHART_SECRET must be at least {MIN_CHART_SECRET_LENGTH} characters")
        if self.metrics_enabled and not self.metrics_token.get_secret_value():
            problems.append("HYPERCARE_METRICS_TOKEN must be set (or HYPERCARE_METRICS_ENABLED=false): /metrics is on the public port")
        if not re.fullmatch(r"https://[^/?#\s]+(/\S*)?", self.public_url):
            problems.append("HYPERCARE_PUBLIC_URL must be the bot's public https:// address (cards link to it)")
        return problems

    def listen_problem(self, host: str) -> str | None:
        """Why `hypercare serve` must not listen on `host` (None when it may)."""
        if not self.local_mode or self.allow_unauthenticated or is_loopback(host):
            return None
        return (
            f"refusing to listen on {host!r}: without MicrosoftAppId nothing authenticates requests, so local mode "
            "listens on a loopback address only. Set MicrosoftAppId (and its credential), or --host 127.0.0.1, "
            "or HYPERCARE_ALLOW_UNAUTHENTICATED=true to accept unauthenticated requests from the network"
        )

    def tenant_allowed(self, tenant_id: str | None) -> bool:
        if not self.allowed_tenants:
            return True
        return tenant_id is not None and tenant_id.lower() in self.allowed_tenants
