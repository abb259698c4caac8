"""Production guards (ESG_ENV=production): each refusal names the setting at fault."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest
from pydantic import ValidationError

from ledger.entropy import MIN_SECRET_BITS, estimated_bits
from ledger.errors import ConfigurationError
from ledger.settings import DEV_MNEMONIC, Settings, _account_from_mnemonic

RELAYER = "0x" + secrets.token_hex(32)
GOOD = secrets.token_urlsafe(32)


def production(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "env": "production",
        "database_url": "postgresql://ledger@db/ledger",
        "relayer_keys": [RELAYER],
        "_env_file": None,
        **overrides,
    }
    return Settings(**values)


def test_a_well_configured_production_server_starts() -> None:
    settings = production(custody_master_key=secrets.token_hex(32), metrics_token=secrets.token_urlsafe(32))
    settings.check_serving()
    assert settings.auto_deploy is False  # production deploys only when asked
    assert settings.rate_limit_exempt_networks == []  # and exempts nobody from rate limits
    assert settings.logs_as_json and settings.access_log_on


def test_auto_deploy_is_off_in_production_unless_asked_and_the_server_refuses_it() -> None:
    assert Settings(env="test", _env_file=None).auto_deploy is True  # type: ignore[call-arg]
    assert production().auto_deploy is False
    with pytest.raises(ConfigurationError, match="ESG_AUTO_DEPLOY"):
        production(auto_deploy=True).check_serving()


def test_the_development_mnemonic_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="ESG_RELAYER_KEYS"):
        production(relayer_keys=[])  # nothing but the public mnemonic to relay with
    with pytest.raises(ConfigurationError, match="ESG_MNEMONIC"):
        production(mnemonic=DEV_MNEMONIC, deployer_key="0x" + secrets.token_hex(32)).check_serving()
    public_key = "0x" + bytes(_account_from_mnemonic(DEV_MNEMONIC, 3).key).hex()
    with pytest.raises(ConfigurationError, match=r"ESG_RELAYER_KEYS\[1\].*development mnemonic"):
        production(relayer_keys=[RELAYER, public_key])


def test_a_database_url_is_required() -> None:
    with pytest.raises(ConfigurationError, match="ESG_DATABASE_URL"):
        production(database_url=None)


@pytest.mark.parametrize(
    ("setting", "overrides"),
    [
        ("ESG_PLATFORM_TOKENS[1]", {"platform_tokens": [GOOD, "platform-token-1"]}),
        ("ESG_PLATFORM_TOKENS[0]", {"platform_tokens": ["ab" * 40]}),  # long, but a pattern
        ("ESG_CUSTODY_MASTER_KEY", {"custody_master_key": "00" * 32}),
        ("ESG_METRICS_TOKEN", {"metrics_token": secrets.token_hex(16)}),  # 16 bytes: half enough
    ],
)
def test_weak_secrets_are_refused_by_name(setting: str, overrides: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(setting) + ".*256"):
        production(**overrides)


def test_weak_secrets_are_fine_outside_production() -> None:
    Settings(env="test", platform_tokens=["t"], metrics_token="m", _env_file=None)  # type: ignore[call-arg]


def test_random_secrets_pass_the_estimate_and_patterns_do_not() -> None:
    for _ in range(200):
        assert estimated_bits(secrets.token_hex(32)) >= MIN_SECRET_BITS
        assert estimated_bits(secrets.token_urlsafe(32)) >= MIN_SECRET_BITS
    for weak in ("0" * 64, "0123456789abcdef" * 4, "changeme" * 8, secrets.token_hex(31), ""):
        assert estimated_bits(weak) < MIN_SECRET_BITS, weak


def test_rate_settings_are_checked_at_start() -> None:
    with pytest.raises(ValidationError, match="rate_limit_ip"):
        Settings(env="test", rate_limit_ip="lots", _env_file=None)  # type: ignore[call-arg]
    assert Settings(env="test", rate_limit_ip="", _env_file=None).rate_limit_ip == ""  # type: ignore[call-arg]
