"""The team server's own settings: where its data lives, how it signs tokens, its limits.

Sources, later wins: defaults < the `[server]` table of `--config FILE` < `LLMGENIE_TEAM_*`
environment variables. Secrets (the JWT signing key; the database, Redis and broker URLs
with their passwords; the model API key) come from the environment or from files
(`jwt_key_file`, `database_url_file`, `redis_url_file`, `broker_url_file`, and
`LLMGENIE_LLM__API_KEY_FILE`), never from the repository. Outside `--dev` the server
refuses to start without a signing key of its own.
"""

from __future__ import annotations

import secrets
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from llmgenie.config import ConfigError, Settings, load_settings, read_secret_file

MIN_KEY_BYTES = 32


if TYPE_CHECKING:
    from llmgenie.remote.blobs import BlobStore


class TeamServerSettings(BaseSettings):
    """`llmgenie team serve` configuration."""

    model_config = SettingsConfigDict(env_prefix="LLMGENIE_TEAM_", extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(8765, ge=0, le=65535)
    dev: bool = Field(False, description="embedded single-developer mode: SQLite, no Redis")
    database_url: SecretStr | None = Field(
        None, description="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db"
    )
    database_url_file: Path | None = Field(None, description="a file holding the URL")
    redis_url: str | None = Field(None, description="redis://host:6379/0 (sessions, limits)")
    redis_url_file: Path | None = Field(None, description="a file holding the Redis URL")
    broker_url: str | None = Field(
        None, description="amqp://user:pass@host:5672// : runs go to a worker pool (else run here)"
    )
    broker_url_file: Path | None = Field(None, description="a file holding the broker URL")
    lease_s: float = Field(
        30.0, ge=2, description="a worker's hold on a run, renewed while it works"
    )
    drain_s: float = Field(
        0.0,
        ge=0,
        description="on SIGTERM a worker lets its runs finish this long, then hands them back",
    )
    reaper_interval_s: float = Field(
        5.0, gt=0, description="how often expired leases are re-queued"
    )
    stale_queued_s: float = Field(60.0, gt=0, description="re-ring a run queued this long")
    blob_url: str | None = Field(
        None, description="s3://bucket/prefix or a directory (default: the data dir's blobs/)"
    )
    blob_endpoint_url: str | None = Field(None, description="an S3-compatible service's URL")
    jwt_key: SecretStr | None = None
    jwt_key_file: Path | None = None
    access_token_ttl_s: int = Field(900, ge=60, le=3600)
    refresh_token_ttl_s: int = Field(30 * 86400, ge=3600)
    pat_max_days: int = Field(90, ge=1, le=90)
    rate_limit_per_minute: int = Field(600, ge=1, description="requests per user and minute")
    run_retention_days: int | None = Field(
        None, ge=1, description="drop run payloads (prompt, events, result) after this long"
    )
    callback_timeout_s: float = Field(20.0, gt=0, description="editor tool-call deadline")
    data_dir: Path | None = Field(None, description="run sandboxes (default: user data dir)")
    repo_roots: list[Path] = Field(
        default_factory=list,
        description="directories whose subdirectories may be registered as repositories",
    )
    repo_refresh_s: float = Field(
        300.0, gt=0, description="how often registered repositories are fetched and re-indexed"
    )
    tls_cert: Path | None = None
    tls_key: Path | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (env_settings, init_settings)

    @model_validator(mode="after")
    def _urls_from_files(self) -> TeamServerSettings:
        """The Redis and broker URLs carry passwords: they may come from mounted files."""
        if self.redis_url is None and self.redis_url_file is not None:
            self.redis_url = read_secret_file(self.redis_url_file, "redis_url_file")
        if self.broker_url is None and self.broker_url_file is not None:
            self.broker_url = read_secret_file(self.broker_url_file, "broker_url_file")
        return self

    @model_validator(mode="after")
    def _tls_pair(self) -> TeamServerSettings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together")
        return self

    def signing_key(self) -> bytes:
        """The JWT signing key; outside --dev a missing or short key is a ConfigError."""
        raw: str | None = None
        if self.jwt_key is not None:
            raw = self.jwt_key.get_secret_value()
        elif self.jwt_key_file is not None:
            try:
                raw = self.jwt_key_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"jwt_key_file {self.jwt_key_file}: {exc}") from exc
        if raw is None:
            if self.dev:
                return secrets.token_bytes(MIN_KEY_BYTES)  # tokens last one dev process
            raise ConfigError(
                "no JWT signing key: set LLMGENIE_TEAM_JWT_KEY or jwt_key_file "
                "(at least 32 random bytes), or run with --dev"
            )
        key = raw.encode("utf-8")
        if len(key) < MIN_KEY_BYTES:
            raise ConfigError(f"the JWT signing key must be at least {MIN_KEY_BYTES} bytes")
        return key

    def blobs(self, default_dir: Path) -> BlobStore:
        """The context-bundle store (by default a directory `blobs/` under `default_dir`)."""
        from llmgenie.remote.blobs import open_blob_store

        try:
            return open_blob_store(self.blob_url, default_dir / "blobs", self.blob_endpoint_url)
        except ValueError as exc:
            raise ConfigError(f"blob_url: {exc}") from exc

    def database(self, default_dir: Path) -> str:
        """The database URL (in --dev, an SQLite file under `default_dir` by default)."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        if self.database_url_file is not None:
            try:
                return self.database_url_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"database_url_file {self.database_url_file}: {exc}") from exc
        if self.dev:
            default_dir.mkdir(parents=True, exist_ok=True)
            return f"sqlite:///{default_dir / 'team.sqlite3'}"
        raise ConfigError(
            "no database: set LLMGENIE_TEAM_DATABASE_URL (postgresql+psycopg://...) or --dev"
        )


def load_team_settings(
    config: Path | None = None, **overrides: Any
) -> tuple[TeamServerSettings, Settings]:
    """The server's settings and the llmgenie settings its agents run with (models, keys,
    permissions), both from `config` (TOML: a `[server]` table plus llmgenie's own tables)."""
    data: dict[str, Any] = {}
    if config is not None:
        try:
            data = tomllib.loads(config.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{config}: {exc}") from exc
    server = dict(data.pop("server", {}) or {})
    server.update({k: v for k, v in overrides.items() if v is not None})
    try:
        team = TeamServerSettings(**server)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"invalid team server setting '{key}': {err['msg']}") from exc
    return team, load_settings(None, **data)
