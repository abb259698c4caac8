"""`esg-ledger staff`: invite (wallet, custodial), list, totp-uri (a new secret), deactivate, activate."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from cli.staff import staff_app
from ledger.db import make_engine
from ledger.settings import get_settings
from ledger.staff import StaffMember, list_members


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("ESG_ENV", "test")
    monkeypatch.setenv("ESG_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ESG_CUSTODY_MASTER_KEY", os.urandom(32).hex())
    monkeypatch.delenv("ESG_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_invite_list_totp_and_deactivate(cli_env: Path) -> None:
    runner = CliRunner()
    wallet = runner.invoke(
        staff_app, ["invite", "--name", "Choi", "--address", "0x" + "ab" * 20, "--area", "41117"]
    )
    assert wallet.exit_code == 0, wallet.output
    custodial = runner.invoke(staff_app, ["invite", "--name", "박서연", "--custodial", "--login", "seoyeon"])
    assert custodial.exit_code == 0, custodial.output
    assert "initial password" in custodial.output and "otpauth://totp/" in custodial.output
    assert (
        runner.invoke(staff_app, ["invite", "--name", "Both"]).exit_code != 0
    )  # neither --address nor --custodial
    again = runner.invoke(staff_app, ["invite", "--name", "Twin", "--address", "0x" + "AB" * 20])
    assert again.exit_code == 1 and "already a staff member" in again.output

    listed = runner.invoke(staff_app, ["list"])
    assert listed.exit_code == 0 and "2 staff members" in listed.output and "41117" in listed.output

    first_uri = custodial.output.split("shown once: ")[-1].split()[0]
    rotated = runner.invoke(staff_app, ["totp-uri", "2"])
    assert rotated.exit_code == 0
    new_uri = rotated.output.strip()
    assert (
        new_uri.startswith("otpauth://totp/")
        and pyotp.parse_uri(new_uri).secret != pyotp.parse_uri(first_uri).secret
    )
    assert runner.invoke(staff_app, ["totp-uri", "1"]).exit_code == 1  # a wallet member has none

    assert runner.invoke(staff_app, ["deactivate", "1"]).exit_code == 0
    assert runner.invoke(staff_app, ["deactivate", "99"]).exit_code == 1
    engine = make_engine(f"sqlite:///{cli_env / 'ledger.db'}")
    with Session(engine) as session:
        members, _ = list_members(session=session)
        assert [(m.id, m.status) for m in members] == [(1, "deactivated"), (2, "invited")]
    assert runner.invoke(staff_app, ["activate", "1"]).exit_code == 0
    with Session(engine) as session:
        assert session.get(StaffMember, 1).status == "active"  # type: ignore[union-attr]
    engine.dispose()
