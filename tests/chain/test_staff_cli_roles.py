"""`esg-ledger staff grant | revoke` (the admin key, from an admin machine) and `staff log` (the
admin log from the mirror) against a real chain."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account
from typer.testing import CliRunner

from cli.main import app
from ledger.chain.calls import view
from ledger.chain.rpc import HttpRpc
from ledger.deploy import Deployment
from ledger.node import AnvilNode
from ledger.settings import get_settings
from ledger.staff.roles import ROLE_GRANTS


@pytest.fixture
def cli_env(
    anvil: AnvilNode, data_dir: Path, deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    monkeypatch.setenv("ESG_ENV", "test")
    monkeypatch.setenv("ESG_RPC_URL", anvil.url)
    monkeypatch.setenv("ESG_DATA_DIR", str(data_dir))
    monkeypatch.delenv("ESG_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _holds(rpc: HttpRpc, deployment: Deployment, role: str, who: str) -> list[bool]:
    return [
        view(rpc, deployment.address(c), "hasRole(bytes32,address)", [bytes.fromhex(r[2:]), who], ["bool"])[0]
        for c, r in ROLE_GRANTS[role]
    ]


def test_grant_and_revoke_on_chain_then_the_admin_log_names_them(
    cli_env: None, rpc: HttpRpc, deployment: Deployment, tmp_path: Path
) -> None:
    runner = CliRunner()
    who = Account.create().address
    granted = runner.invoke(app, ["staff", "grant", "policy", who])
    assert granted.exit_code == 0, granted.output
    assert _holds(rpc, deployment, "policy", who) == [True, True, True]  # the three POLICY_ROLEs

    revoked = runner.invoke(app, ["staff", "revoke", "policy", who])
    assert revoked.exit_code == 0, revoked.output
    assert _holds(rpc, deployment, "policy", who) == [False, False, False]

    assert runner.invoke(app, ["index"]).exit_code == 0
    out = tmp_path / "log.csv"
    exported = runner.invoke(app, ["staff", "log", "--csv", str(out)])
    assert exported.exit_code == 0, exported.output
    rows = [r for r in csv.DictReader(out.open()) if r["subject"] == who]
    assert [r["action"] for r in rows] == ["RoleGranted"] * 3 + ["RoleRevoked"] * 3
    admin = get_settings().deployer().address
    assert {r["actor"] for r in rows} == {admin}  # the admin's own address, not a service key

    assert runner.invoke(app, ["staff", "grant", "mayor", who]).exit_code == 2
    assert runner.invoke(app, ["staff", "grant", "admin", "0X" + who[2:]]).exit_code == 2
