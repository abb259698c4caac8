"""All configuration, from `ESG_*` environment variables (or a `.env` file). Nothing else reads os.environ."""

from __future__ import annotations

import functools
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Literal

from eth_account import Account
from eth_account.signers.local import LocalAccount
from pydantic import AnyHttpUrl, Field, IPvAnyNetwork, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .entropy import MIN_SECRET_BITS, estimated_bits
from .errors import ConfigurationError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# anvil's published development mnemonic: its accounts are funded on every fresh anvil chain.
DEV_MNEMONIC = "test test test test test test test test test test test junk"

Account.enable_unaudited_hdwallet_features()


@functools.lru_cache(maxsize=64)
def _account_from_mnemonic(mnemonic: str, index: int) -> LocalAccount:
    account: LocalAccount = Account.from_mnemonic(mnemonic, account_path=f"m/44'/60'/0'/0/{index}")
    return account


class Settings(BaseSettings):
    """Typed settings; see docs/operations.md for what each one does."""

    model_config = SettingsConfigDict(env_prefix="ESG_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    project_root: Path = PROJECT_ROOT
    data_dir: Path = Field(default_factory=lambda: PROJECT_ROOT / "data")

    rpc_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:8545")
    public_rpc_url: AnyHttpUrl | None = None  # what /partner offers browsers; defaults to rpc_url
    database_url: str | None = None
    expected_chain_id: int | None = None

    mnemonic: SecretStr = SecretStr(DEV_MNEMONIC)
    deployer_key: SecretStr | None = None
    relayer_keys: list[SecretStr] = Field(default_factory=list)
    relayer_count: int = Field(default=1, ge=1, le=16)

    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)

    embedded_node: bool = False
    node_block_time: float = Field(default=1.0, ge=0)
    node_state_interval: int = Field(default=5, ge=1)
    auto_deploy: bool = True  # unset: on outside production; production deploys only when asked

    batch_max_size: int = Field(default=100, ge=1, le=100)  # PloggingRegistry.MAX_BATCH
    batch_max_age: float = Field(default=0.3, ge=0)
    relayer_interval: float = Field(default=0.1, gt=0)
    # With nothing queued or in flight, a full relayer tick only this often (cheap reads between).
    relayer_idle_interval: float = Field(default=1.0, gt=0)
    indexer_interval: float = Field(default=0.25, gt=0)
    confirmations: int = Field(default=1, ge=1)
    finality_depth: int = Field(default=64, ge=1)
    indexer_max_range: int = Field(default=5000, ge=1)
    indexer_max_lag: int = Field(default=20, ge=0)
    head_stall_seconds: float = Field(default=0, ge=0)
    action_ttl: int = Field(default=86_400, ge=60)
    # A request body larger than this is refused with 413 before anything parses it. A full
    # /v1/actions/batch of 1,000 ECDSA-signed actions is about 1.3 MB.
    max_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    # The lean path for the three hottest public reads (api/readpath.py); off, the routes answer.
    read_fastpath: bool = True
    max_fee_gwei: float = Field(default=500.0, gt=0)
    priority_fee_gwei: float = Field(default=1.0, ge=0)
    receipt_timeout: float = Field(default=60.0, gt=0)
    tx_replace_after: float = Field(default=30.0, ge=0)
    tx_valid_for: float = Field(default=900.0, ge=0)
    relayer_min_balance_eth: float = Field(default=1.0, ge=0)
    relayer_balance_interval: float = Field(default=60.0, gt=0)
    relayer_allowlist: list[str] = Field(default_factory=list)
    relayer_max_in_flight: int = Field(default=64, ge=1)
    # At most this many blocks' worth of gas waits in the node's pool (0: no limit). Beyond it,
    # actions wait in the outbox, oldest first: a node fills blocks in its own order, not ours.
    relayer_pending_blocks: float = Field(default=1.0, ge=0)

    resident_rate_per_minute: int = Field(default=60, ge=0)
    resident_daily_cap: int = Field(default=50, ge=0)
    # Who may earn (ledger/enrolment.py): `open`, any address; `enrolled`, only residents an
    # accountable party (a platform, a service desk) enrolled. Unset: `enrolled` in production only.
    enrolment_policy: Literal["open", "enrolled"] = "open"
    enrolment_cache_seconds: float = Field(default=60.0, ge=0)  # how long a "yes" is remembered

    api_workers: int = Field(default=1, ge=1, le=32)
    # Group commit of accepted actions: while requests come as a stream, each waits up to this long
    # for others to share its transaction and fsync (ledger/committer.py); 0 commits each at once.
    accept_commit_delay_ms: float = Field(default=20.0, ge=0, le=1000)
    api_worker_nice: int = Field(default=5, ge=0, le=19)
    # The public edge (docs/operations.md "Rate limits", "CORS", "Metrics", "Logs", "Health").
    # Requests per client IP and per credential (platform token, partner key, staff session), in
    # `limits` notation ("1200/minute;100/second"); empty: no limit. Counted in each API worker's
    # memory unless ESG_RATE_LIMIT_STORAGE names a shared store (redis://…).
    rate_limit_ip: str = "1200/minute"
    rate_limit_client: str = "6000/minute"
    rate_limit_storage: str = "memory://"
    # sliding: two counters per key, a close estimate; moving: exact, a timestamp per request kept.
    rate_limit_strategy: Literal["sliding", "moving"] = "sliding"
    # Client networks never rate limited. Unset: loopback outside production (tests, benchmarks and
    # `scripts/run` talk from 127.0.0.1), nothing in production.
    rate_limit_exempt: list[IPvAnyNetwork] | None = None
    # Proxies whose X-Forwarded-For is believed (the client is the nearest untrusted hop); none by default.
    trusted_proxies: list[IPvAnyNetwork] = Field(default_factory=list)
    # Browser origins allowed to call the API (metaverse web clients); empty: same-origin only.
    cors_origins: list[str] = Field(default_factory=list)
    cors_methods: list[str] = Field(default_factory=lambda: ["GET", "POST", "PUT", "PATCH", "DELETE"])
    cors_headers: list[str] = Field(
        default_factory=lambda: ["Authorization", "Content-Type", "X-Request-ID", "X-CSRF-Token"]
    )
    cors_credentials: bool = False  # cookies cross-origin; only with explicit origins, never "*"
    # /metrics: with a token, `Authorization: Bearer <token>` from anywhere; without, loopback only.
    metrics_token: SecretStr | None = None
    log_format: Literal["json", "text"] | None = None  # unset: json in production, text otherwise
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    access_log: bool | None = None  # one line per request; unset: on in production only
    # The jobs process writes its health state this often; /healthz calls it down when it is older
    # than health_stale_seconds (the jobs stopped or hang).
    health_interval: float = Field(default=1.0, gt=0)
    health_stale_seconds: float = Field(default=15.0, gt=0)
    custody_master_key: SecretStr | None = None
    # The legacy platform "default" (development and test only); production registers platforms.
    platform_tokens: list[SecretStr] = Field(default_factory=list)
    # Signed webhooks and re-authentication assertions (ledger/platforms): how far a signed timestamp
    # may be from the server's clock, in seconds, either way.
    webhook_tolerance: float = Field(default=300.0, ge=1, le=3600)
    # Staff sign-in (ledger/staff, docs/staff.md). The URL staff reach this API at: its host:port is
    # the Sign-In with Ethereum domain, its origin the URI a message must name, and https makes the
    # session cookie Secure. Unset: http://ESG_API_HOST:ESG_API_PORT (127.0.0.1:8000 in development).
    public_url: AnyHttpUrl | None = None
    staff_session_idle: float = Field(default=1800.0, gt=0)  # seconds without a request
    staff_session_absolute: float = Field(default=28_800.0, gt=0)  # seconds since sign-in
    staff_lockout_failures: int = Field(default=5, ge=1)  # consecutive password/TOTP failures
    staff_lockout_seconds: float = Field(default=900.0, gt=0)
    staff_siwe_nonce_ttl: float = Field(default=300.0, gt=0)
    # Residents with their own wallet (POST /v1/residents/siwe/verify): a short-lived bearer session.
    resident_session_seconds: float = Field(default=3600.0, gt=0)
    # One demo partner, cause and campaign on the chain at start (ledger/demo.py); with them, in
    # development only, a demo staff account holding every role (ledger/staff/demo.py). Unset: on in
    # development only; never allowed in production.
    demo_data: bool = False

    @model_validator(mode="before")
    @classmethod
    def _default_demo_data(cls, data: object) -> object:
        if isinstance(data, dict) and "demo_data" not in data:
            return {**data, "demo_data": data.get("env", "development") == "development"}
        return data

    @model_validator(mode="before")
    @classmethod
    def _default_enrolment_policy(cls, data: object) -> object:
        if isinstance(data, dict) and "enrolment_policy" not in data:
            return {**data, "enrolment_policy": "enrolled" if data.get("env") == "production" else "open"}
        return data

    @model_validator(mode="before")
    @classmethod
    def _default_auto_deploy(cls, data: object) -> object:
        if isinstance(data, dict) and "auto_deploy" not in data:
            return {**data, "auto_deploy": data.get("env", "development") != "production"}
        return data

    @field_validator("rate_limit_ip", "rate_limit_client")
    @classmethod
    def _parse_rate(cls, value: str) -> str:
        from limits import parse_many

        if value.strip():
            try:
                parse_many(value)
            except ValueError as exc:
                raise ValueError(
                    f'not a rate such as "1200/minute" or "10/second;600/minute": {exc}'
                ) from None
        return value

    @model_validator(mode="after")
    def _refuse_weak_secrets(self) -> Settings:
        """Production tokens and keys must be at least 32 random bytes (ledger/entropy.py)."""
        if self.env != "production":
            return self
        named: list[tuple[str, SecretStr | None]] = [
            ("ESG_CUSTODY_MASTER_KEY", self.custody_master_key),
            ("ESG_METRICS_TOKEN", self.metrics_token),
            *((f"ESG_PLATFORM_TOKENS[{i}]", t) for i, t in enumerate(self.platform_tokens)),
        ]
        for name, secret in named:
            if secret is None:
                continue
            bits = estimated_bits(secret.get_secret_value())
            if bits < MIN_SECRET_BITS:
                raise ConfigurationError(
                    f"ESG_ENV=production: {name} looks like about {bits} bits of entropy; it needs at "
                    f"least {MIN_SECRET_BITS} (32 random bytes: python -c 'import secrets; "
                    "print(secrets.token_urlsafe(32))')"
                )
        public = {a.key for a in (_account_from_mnemonic(DEV_MNEMONIC, i) for i in range(20))}
        for i, key in enumerate(self.relayer_keys):
            try:
                raw = bytes.fromhex(key.get_secret_value().removeprefix("0x"))
            except ValueError:
                continue  # not a key at all: relayers() says so
            if raw in public:
                raise ConfigurationError(
                    f"ESG_ENV=production: ESG_RELAYER_KEYS[{i}] is an account of the public development "
                    "mnemonic; anyone can spend from it"
                )
        return self

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.env != "production":
            return self
        if self.demo_data:
            raise ConfigurationError("ESG_DEMO_DATA is for development: production never gets demo records")
        if self.mnemonic.get_secret_value() == DEV_MNEMONIC and not self.relayer_keys:
            raise ConfigurationError(
                "ESG_ENV=production needs ESG_RELAYER_KEYS, or an ESG_MNEMONIC of your own: the "
                "development mnemonic is public"
            )
        if self.database_url is None:
            raise ConfigurationError("ESG_ENV=production needs ESG_DATABASE_URL (PostgreSQL)")
        if self.platform_tokens:
            raise ConfigurationError(
                "ESG_PLATFORM_TOKENS is the legacy development platform; in production register each "
                "platform with `esg-ledger platform add` (scoped kinds, hashed token, webhook secret)"
            )
        return self

    @model_validator(mode="after")
    def _check_master_key(self) -> Settings:
        key = self.custody_master_key
        if key is not None:
            try:
                raw = bytes.fromhex(key.get_secret_value().removeprefix("0x"))
            except ValueError:
                raw = b""
            if len(raw) != 32:
                raise ConfigurationError("ESG_CUSTODY_MASTER_KEY must be 32 bytes of hex (64 digits)")
        return self

    @property
    def rate_limit_exempt_networks(self) -> list[IPv4Network | IPv6Network]:
        if self.rate_limit_exempt is not None:
            return [ip_network(n) for n in self.rate_limit_exempt]
        if self.env == "production":
            return []
        return [ip_network("127.0.0.0/8"), ip_network("::1/128")]

    @property
    def logs_as_json(self) -> bool:
        return self.log_format == "json" if self.log_format else self.env == "production"

    @property
    def access_log_on(self) -> bool:
        return self.access_log if self.access_log is not None else self.env == "production"

    @property
    def health_path(self) -> Path:
        """The jobs' health state (ledger/health.py), read by every API worker."""
        return self.data_dir / "health.json"

    @property
    def metrics_dir(self) -> Path:
        """prometheus_client's multiprocess directory when several API workers serve."""
        return self.data_dir / "prometheus"

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'ledger.db'}"

    @property
    def rpc(self) -> str:
        return str(self.rpc_url).rstrip("/")

    @property
    def public_rpc(self) -> str:
        """The node URL offered to browsers (/partner): ESG_PUBLIC_RPC_URL, else ESG_RPC_URL unless it
        carries credentials (a provider's key in its path, query or user part), else empty."""
        from .chain.rpc import display_url

        if self.public_rpc_url is not None:
            return str(self.public_rpc_url).rstrip("/")
        return self.rpc if display_url(self.rpc) == self.rpc else ""

    @property
    def staff_public_url(self) -> str:
        if self.public_url is not None:
            return str(self.public_url).rstrip("/")
        return f"http://{self.api_host}:{self.api_port}"

    @property
    def siwe_domain(self) -> str:
        """The EIP-4361 domain a staff sign-in message must name: the public URL's host[:port]."""
        from urllib.parse import urlsplit

        return urlsplit(self.staff_public_url).netloc

    @property
    def node_port(self) -> int:
        return self.rpc_url.port or 8545

    @property
    def deployments_dir(self) -> Path:
        return self.data_dir / "deployments"

    @property
    def build_dir(self) -> Path:
        return self.project_root / "build"

    def deployer(self) -> LocalAccount:
        if self.deployer_key is not None:
            account: LocalAccount = Account.from_key(self.deployer_key.get_secret_value())
            return account
        if self.env == "production" and self.mnemonic.get_secret_value() == DEV_MNEMONIC:
            raise ConfigurationError(
                "this needs the admin key (ESG_DEPLOYER_KEY): the development mnemonic is public"
            )
        return _account_from_mnemonic(self.mnemonic.get_secret_value(), 0)

    def check_serving(self) -> None:
        """In production the internet-facing process holds no admin key: the contracts are deployed
        with `esg-ledger deploy` from an admin machine, staff act with their own keys through the
        forwarder, and the server holds only the relayer keys (which can call nothing but batches)."""
        if self.env != "production":
            return
        if self.deployer_key is not None or self.mnemonic.get_secret_value() != DEV_MNEMONIC:
            raise ConfigurationError(
                "ESG_ENV=production: the API process must not hold the admin key. Unset "
                "ESG_DEPLOYER_KEY and ESG_MNEMONIC and give only ESG_RELAYER_KEYS; deploy with "
                "`esg-ledger deploy` on an admin machine"
            )
        if self.auto_deploy:
            raise ConfigurationError(
                "ESG_ENV=production: set ESG_AUTO_DEPLOY=false; the server cannot deploy without the "
                "admin key, and must not hold it"
            )

    def relayers(self) -> list[LocalAccount]:
        if self.relayer_keys:
            return [Account.from_key(k.get_secret_value()) for k in self.relayer_keys]
        mnemonic = self.mnemonic.get_secret_value()
        return [_account_from_mnemonic(mnemonic, 1 + i) for i in range(self.relayer_count)]


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
