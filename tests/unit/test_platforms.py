"""The platform registry and custody bound to its platform, on a real SQLite database: tokens kept
as hashes, rotation and revocation, entropy in production, the CLI printing credentials once, and
custodial keys that open only in their own row and for their own platform."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account
from sqlalchemy import Engine, text
from sqlmodel import Session
from typer.testing import CliRunner

from cli.platforms import platform_app
from ledger.custody import LocalMasterKey, create_wallet, export_wallet, get_wallet, sign_action
from ledger.db import make_engine
from ledger.errors import (
    AlreadyExportedError,
    CustodyError,
    NotAuthenticatedError,
    PlatformError,
    WrongPlatformError,
)
from ledger.kinds import PLOGGING
from ledger.models import CustodialWallet
from ledger.platforms import (
    Platform,
    add_platform,
    authenticate,
    ensure_enroller_key,
    party_for,
    revoke_platform,
    rotate_platform,
    webhook_secret,
)
from ledger.platforms.enroller import enroller_account
from ledger.settings import get_settings
from migrations import migrate

KEYS = LocalMasterKey(os.urandom(32))


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


def test_a_token_is_kept_as_a_hash_and_stops_at_rotation_and_revocation(engine: Engine) -> None:
    with Session(engine) as session:
        issued = add_platform(
            session=session, keys=KEYS, platform_id="metaseoul", name="Meta Seoul", kinds=["plogging"]
        )
        session.commit()
        row = session.get(Platform, "metaseoul")
        assert row is not None and issued.token not in row.token_hash
        assert (
            issued.token.encode() not in row.secret_ciphertext
            and issued.secret.encode() not in row.secret_ciphertext
        )
        assert webhook_secret(row, KEYS) == issued.secret.encode()
        who = authenticate(session=session, token=issued.token)
        assert who.id == "metaseoul" and who.kinds == frozenset({"plogging"}) and not who.legacy

        rotated = rotate_platform(session=session, keys=KEYS, platform_id="metaseoul")
        session.commit()
        with pytest.raises(NotAuthenticatedError):
            authenticate(session=session, token=issued.token)
        assert authenticate(session=session, token=rotated.token).id == "metaseoul"
        assert row.rotated_at is not None

        revoke_platform(session=session, platform_id="metaseoul")
        session.commit()
        with pytest.raises(NotAuthenticatedError):
            authenticate(session=session, token=rotated.token)
        with pytest.raises(PlatformError):
            rotate_platform(session=session, keys=KEYS, platform_id="metaseoul")
        legacy = authenticate(session=session, token="dev-token", legacy_tokens=["other", "dev-token"])
        assert legacy.id == "default" and legacy.legacy
        with pytest.raises(NotAuthenticatedError):
            authenticate(session=session, token="", legacy_tokens=[""])


def test_bad_ids_kinds_and_weak_secrets_are_refused(engine: Engine) -> None:
    with Session(engine) as session:
        for platform_id, kinds in (
            ("Bad Id", ["plogging"]),
            ("default", ["plogging"]),
            ("ok-id", ["mint"]),
            ("ok-id", []),
        ):
            with pytest.raises(PlatformError):
                add_platform(session=session, keys=KEYS, platform_id=platform_id, name="x", kinds=kinds)
        with pytest.raises(PlatformError, match="entropy"):
            add_platform(
                session=session, keys=KEYS, platform_id="weak", name="x", kinds=["plogging"],
                secret="whsec_password123", production=True,
            )  # fmt: skip
        strong = add_platform(
            session=session, keys=KEYS, platform_id="strong", name="x", kinds=["plogging"], production=True
        )
        assert strong.secret.startswith("whsec_") and strong.token.startswith("esgp_")


def _wallet_for(engine: Engine, subject: str, platform_id: str) -> CustodialWallet:
    with Session(engine, expire_on_commit=False) as session:
        wallet, created = create_wallet(session=session, subject=subject, platform_id=platform_id, keys=KEYS)
        session.commit()
        assert created
        return wallet


def _typed(address: str) -> dict[str, object]:
    message = {
        "resident": address, "distanceMeters": 1000, "durationSeconds": 600, "trashGrams": 100, "areaCode": 1,
        "startedAt": 1_700_000_000, "evidenceHash": "0x" + "01" * 32, "nonce": 1, "deadline": 2**40,
    }  # fmt: skip
    return {"domain": {"chainId": 31337, "verifyingContract": "0x" + "11" * 20}, "message": message}


def test_a_wallet_opens_only_for_its_platform_and_in_its_own_row(engine: Engine) -> None:
    a = _wallet_for(engine, "alpha:1", "alpha")
    b = _wallet_for(engine, "beta:1", "beta")
    with Session(engine) as session:
        with pytest.raises(WrongPlatformError):
            get_wallet(session=session, subject="alpha:1", platform_id="beta")
        with pytest.raises(WrongPlatformError):
            create_wallet(session=session, subject="alpha:1", platform_id="beta", keys=KEYS)
        with pytest.raises(WrongPlatformError):  # another platform's namespace
            create_wallet(
                session=session,
                subject="alpha:2",
                platform_id="beta",
                keys=KEYS,
                known_platforms=frozenset({"alpha"}),
            )
    with engine.begin() as conn:  # swap the sealed keys between the rows
        conn.execute(
            text("UPDATE custodial_wallet SET ciphertext = :c WHERE subject = 'beta:1'"), {"c": a.ciphertext}
        )
    with Session(engine) as session, pytest.raises(CustodyError, match="does not decrypt"):
        sign_action(
            session=session,
            subject="beta:1",
            platform_id="beta",
            keys=KEYS,
            spec=PLOGGING,
            typed_data=_typed(b.address),
        )
    assert b.address != a.address


def test_a_wallet_from_before_platforms_is_resealed_when_it_signs(engine: Engine) -> None:
    account = Account.create()
    legacy_context = b"esg-custodial-wallet:" + account.address.lower().encode()
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO custodial_wallet (subject, address, key_id, ciphertext, created_at, "
                "platform_id, binding) VALUES ('old-1', :a, :k, :c, 0, 'default', 1)"
            ),
            {
                "a": account.address,
                "k": KEYS.key_id,
                "c": KEYS.encrypt(bytes(account.key), context=legacy_context),
            },
        )
    with Session(engine) as session:
        signer, _ = sign_action(
            session=session, subject="old-1", platform_id="default", keys=KEYS, spec=PLOGGING,
            typed_data=_typed(account.address),
        )  # fmt: skip
        assert signer == account.address
    with Session(engine) as session:
        row = session.get(CustodialWallet, "old-1")
        assert row is not None and row.binding == 2 and row.ciphertext is not None
        with pytest.raises(CustodyError):  # the old associated data no longer opens it
            KEYS.decrypt(row.ciphertext, context=legacy_context)
        sign_action(
            session=session, subject="old-1", platform_id="default", keys=KEYS, spec=PLOGGING,
            typed_data=_typed(account.address),
        )  # fmt: skip


def test_export_destroys_the_ciphertext_and_happens_once(engine: Engine) -> None:
    wallet = _wallet_for(engine, "alpha:9", "alpha")
    with Session(engine) as session:
        keystore = export_wallet(
            session=session, subject="alpha:9", platform_id="alpha", keys=KEYS, password="long enough pw"
        )
        session.commit()
        assert Account.from_key(Account.decrypt(keystore, "long enough pw")).address == wallet.address
        with pytest.raises(AlreadyExportedError):
            export_wallet(
                session=session, subject="alpha:9", platform_id="alpha", keys=KEYS, password="long enough pw"
            )
    with Session(engine) as session:
        row = session.get(CustodialWallet, "alpha:9")
        assert row is not None and row.ciphertext is None and row.exported_at is not None


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("ESG_ENV", "test")
    monkeypatch.setenv("ESG_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ESG_CUSTODY_MASTER_KEY", os.urandom(32).hex())
    monkeypatch.delenv("ESG_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_the_cli_prints_credentials_once_and_lists_no_secret(cli_env: Path) -> None:
    runner = CliRunner()
    added = runner.invoke(
        platform_app, ["add", "zepeto", "--name", "Zepeto", "--kind", "plogging", "--kind", "feedback"]
    )
    assert added.exit_code == 0, added.output
    token = added.output.split("token: ")[1].split()[0]
    secret = added.output.split("webhook secret: ")[1].split()[0]
    listed = runner.invoke(platform_app, ["list", "--json"])
    assert listed.exit_code == 0 and '"zepeto"' in listed.output and "feedback,plogging" in listed.output
    assert token not in listed.output and secret not in listed.output
    conn = sqlite3.connect(cli_env / "ledger.db")
    dump = "\n".join(conn.iterdump())
    conn.close()
    assert token not in dump and secret not in dump
    assert (
        runner.invoke(platform_app, ["add", "zepeto", "--name", "Again", "--kind", "plogging"]).exit_code == 1
    )
    rotated = runner.invoke(platform_app, ["rotate", "zepeto"])
    assert rotated.exit_code == 0 and token not in rotated.output
    assert runner.invoke(platform_app, ["revoke", "zepeto"]).exit_code == 0
    assert "revoked" in runner.invoke(platform_app, ["list"]).output
    imported = runner.invoke(
        platform_app,
        ["add", "own-secret", "--name", "O", "--kind", "plogging", "--secret-from-stdin"],
        input="whsec_" + "k" * 3 + os.urandom(32).hex() + "\n",
    )
    assert imported.exit_code == 0 and "whsec_kkk" in imported.output


def test_each_platform_holds_its_own_sealed_enroller_key_bound_to_its_id(engine: Engine) -> None:
    with Session(engine) as session:
        a = add_platform(session=session, keys=KEYS, platform_id="alpha", name="A", kinds=["plogging"])
        b = add_platform(session=session, keys=KEYS, platform_id="beta", name="B", kinds=["plogging"])
        session.commit()
        alpha, beta = a.platform, b.platform
        assert alpha.enroller_address and beta.enroller_address
        assert alpha.enroller_address != beta.enroller_address
        account = enroller_account(alpha, KEYS)
        assert account is not None and account.address == alpha.enroller_address
        assert alpha.enroller_ciphertext is not None and bytes(account.key) not in alpha.enroller_ciphertext
        # a sealed key copied to another platform's row does not open there
        beta.enroller_ciphertext = alpha.enroller_ciphertext
        with pytest.raises(CustodyError, match="does not decrypt"):
            enroller_account(beta, KEYS)
        too_long = "p" + "x" * 23  # "platform:" + 24 characters is more than a bytes32 party code
        with pytest.raises(PlatformError, match="bytes32"):
            add_platform(session=session, keys=KEYS, platform_id=too_long, name="L", kinds=["plogging"])
        assert party_for("x" * 23) == "platform:" + "x" * 23 and len(party_for("x" * 23)) == 32


def test_a_platform_from_before_enroller_keys_gets_one_once(engine: Engine) -> None:
    with Session(engine) as session:
        add_platform(session=session, keys=KEYS, platform_id="older", name="O", kinds=["plogging"])
        session.commit()
    with engine.begin() as conn:  # as revision 0015 leaves a platform added before it
        conn.execute(text("UPDATE platform SET enroller_ciphertext = NULL, enroller_address = NULL"))
    with Session(engine) as session:
        platform, created = ensure_enroller_key(session=session, keys=KEYS, platform_id="older")
        session.commit()
        address = platform.enroller_address
        assert created and address is not None
        again, created_again = ensure_enroller_key(session=session, keys=KEYS, platform_id="older")
        assert not created_again and again.enroller_address == address
        with pytest.raises(PlatformError):
            ensure_enroller_key(session=session, keys=KEYS, platform_id="nobody")


def test_the_cli_shows_the_enroller_address_and_the_grant_to_run(cli_env: Path) -> None:
    runner = CliRunner()
    added = runner.invoke(platform_app, ["add", "ifland", "--name", "Ifland", "--kind", "plogging"])
    assert added.exit_code == 0, added.output
    address = added.output.split("enroller address: ")[1].split()[0]
    assert f"esg-ledger staff grant enroller {address}" in added.output
    assert "(party platform:ifland)" in added.output
    listed = runner.invoke(platform_app, ["list", "--json"])
    assert listed.exit_code == 0, listed.output
    row = json.loads(listed.output.strip().splitlines()[0])
    assert row["enroller_address"] == address
    assert row["grant"] == f"esg-ledger staff grant enroller {address}"
    table = runner.invoke(platform_app, ["list"])
    assert f"ifland: esg-ledger staff grant enroller {address}" in table.output
    shown = runner.invoke(platform_app, ["enroller", "ifland"])
    assert shown.exit_code == 0 and address in shown.output and "had no enroller key" not in shown.output
    revoked = runner.invoke(platform_app, ["revoke", "ifland"])
    assert f"esg-ledger staff revoke enroller {address}" in revoked.output
    conn = sqlite3.connect(cli_env / "ledger.db")
    sealed = conn.execute("SELECT enroller_ciphertext FROM platform WHERE id = 'ifland'").fetchone()[0]
    conn.close()
    assert sealed and address.encode() not in sealed
    assert runner.invoke(platform_app, ["enroller", "nobody"]).exit_code == 1
