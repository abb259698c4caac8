"""Off-chain profiles hash to what goes on chain; demo data is a development-only setting; the read
routes' enums are the mirror's vocabulary."""

from __future__ import annotations

import json
import typing
from pathlib import Path

import pytest
from eth_hash.auto import keccak
from sqlmodel import Session

from api.routes import campaigns, feedback
from indexer import queries
from ledger.db import make_engine
from ledger.demo import DEMO_CAMPAIGN, DEMO_CAUSE, DEMO_PARTNER, demo_address
from ledger.directory import DirectoryProfile, get_profiles, metadata_hash, put_profile
from ledger.errors import ConfigurationError
from ledger.settings import Settings
from migrations import migrate


def test_metadata_hash_is_keccak_of_canonical_json() -> None:
    canonical = '{"description":"커피 한 잔 (a coffee)","name":"카페"}'.encode()
    assert metadata_hash("카페", "커피 한 잔 (a coffee)") == "0x" + keccak(canonical).hex()
    assert json.loads(canonical) == {"name": "카페", "description": "커피 한 잔 (a coffee)"}
    assert metadata_hash("카페") != metadata_hash("카페 ")  # every character counts


def test_put_profile_creates_then_replaces(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    migrate(engine)
    with Session(engine) as session:
        put_profile(session=session, chain_id=1, kind="partner", key="0xAbC", name="Old")
        session.commit()
        put_profile(session=session, chain_id=1, kind="partner", key="0xAbC", name="New", description="d")
        put_profile(session=session, chain_id=1, kind="cause", key="1", name="River", demo=True)
        session.commit()
    with Session(engine) as session:
        (row,) = get_profiles(session=session, chain_id=1, kind="partner", keys=["0xAbC", "0xdef"]).values()
        assert (row.name, row.description, row.metadata_hash) == ("New", "d", metadata_hash("New", "d"))
        assert row.updated_at >= row.created_at
        assert session.get(DirectoryProfile, (1, "cause", "1")).demo  # type: ignore[union-attr]
        assert get_profiles(session=session, chain_id=2, kind="partner", keys=["0xAbC"]) == {}
    with pytest.raises(ValueError):
        put_profile(session=Session(engine), chain_id=1, kind="shop", key="x", name="x")
    engine.dispose()


def test_demo_records_say_they_are_demo_in_korean_and_english() -> None:
    for profile in (DEMO_PARTNER, DEMO_CAUSE, DEMO_CAMPAIGN):
        assert "데모" in profile.name and "Demo" in profile.name
    assert demo_address("partner") == demo_address("partner") != demo_address("cause wallet")


def test_demo_data_defaults_on_only_in_development_and_is_refused_in_production(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("ESG_ENV", "ESG_DEMO_DATA"):
        monkeypatch.delenv(name, raising=False)
    assert Settings(_env_file=None).demo_data is True  # type: ignore[call-arg]
    assert Settings(env="test", _env_file=None).demo_data is False  # type: ignore[call-arg]
    assert Settings(env="development", demo_data=False, _env_file=None).demo_data is False  # type: ignore[call-arg]
    monkeypatch.setenv("ESG_ENV", "test")
    monkeypatch.setenv("ESG_DEMO_DATA", "true")
    assert Settings(_env_file=None).demo_data is True  # type: ignore[call-arg]
    production = {
        "env": "production",
        "database_url": "postgresql://ledger@db/ledger",
        "deployer_key": "0x" + "11" * 32,
        "relayer_keys": ["0x" + "22" * 32],
    }
    monkeypatch.delenv("ESG_DEMO_DATA")
    assert Settings(**production, _env_file=None).demo_data is False  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="DEMO_DATA"):
        Settings(**production, demo_data=True, _env_file=None)  # type: ignore[arg-type]


def test_route_enums_are_the_mirrors_vocabulary() -> None:
    assert list(typing.get_args(feedback.Status)) == list(queries.FEEDBACK_STATUSES.values())
    assert list(typing.get_args(campaigns.Status)) == list(queries.CAMPAIGN_STATUSES.values())


def test_in_production_the_api_process_holds_no_admin_key() -> None:
    base = {"env": "production", "database_url": "postgresql://ledger@db/ledger", "_env_file": None}
    relayer_only = Settings(**base, relayer_keys=["0x" + "22" * 32], auto_deploy=False)  # type: ignore[arg-type]
    relayer_only.check_serving()  # the relayer keys only: it serves
    with pytest.raises(ConfigurationError, match="ESG_DEPLOYER_KEY"):
        relayer_only.deployer()  # and it has no admin key to hand out
    with_admin = Settings(**base, deployer_key="0x" + "11" * 32, relayer_keys=["0x" + "22" * 32])  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="must not hold the admin key"):
        with_admin.check_serving()
    with pytest.raises(ConfigurationError, match="must not hold the admin key"):
        Settings(**base, mnemonic="abandon " * 11 + "about", auto_deploy=False).check_serving()  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="AUTO_DEPLOY"):  # off unless asked for; asked, refused
        Settings(**base, relayer_keys=["0x" + "22" * 32], auto_deploy=True).check_serving()  # type: ignore[arg-type]
    Settings(env="development", _env_file=None).check_serving()  # type: ignore[call-arg]
