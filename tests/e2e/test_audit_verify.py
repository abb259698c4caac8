"""`esg-ledger audit reconcile` and `esg-ledger verify`, run as the ESG team and a partner would."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from ledger.node import AnvilNode

from ..support import ROOT, Resident, Server, wait_until
from .test_plogging_e2e import submit_signed, wait_final


def cli(*args: str, anvil: AnvilNode, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ESG_RPC_URL": anvil.url, "ESG_DATA_DIR": str(data_dir), "ESG_ENV": "test"}
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_audit_passes_then_catches_a_tampered_mirror(
    server: Server, anvil: AnvilNode, data_dir: Path
) -> None:
    client = server.client()
    residents = [Resident() for _ in range(3)]
    ids = [submit_signed(client, r)[2] for r in residents]
    assert all(wait_final(client, i)["status"] == "confirmed" for i in ids)
    db = sqlite3.connect(data_dir / "ledger.db")
    wait_until(
        lambda: db.execute("SELECT count(*) FROM plogging_session").fetchone()[0] >= 3, 15, "the mirror"
    )

    clean = cli("audit", "reconcile", anvil=anvil, data_dir=data_dir)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "0 mismatches" in clean.stdout

    server.stop()  # the ESG team's scenario: someone edits the mirror by hand
    with db:
        db.execute(
            "UPDATE token_transfer SET value = value + 1 WHERE to_address = ?", (residents[0].address,)
        )
    tampered = cli("audit", "reconcile", anvil=anvil, data_dir=data_dir)
    server.start()
    assert tampered.returncode == 1
    assert "token_transfer" in tampered.stdout and "balance" in tampered.stdout
    with db:
        db.execute(
            "UPDATE token_transfer SET value = value - 1 WHERE to_address = ?", (residents[0].address,)
        )
    db.close()


def test_partner_verifies_a_record_and_a_balance_against_the_api(
    server: Server, anvil: AnvilNode, data_dir: Path
) -> None:
    client = server.client()
    resident = Resident()
    _, _, action_id = submit_signed(client, resident)
    assert wait_final(client, action_id)["status"] == "confirmed"
    wait_until(
        lambda: client.get(f"/v1/residents/{resident.address}").json()["balance"] > 0, 15, "the mirror"
    )
    partner_dir = data_dir / "partner"  # a partner has no manifest: it reads the published deployment
    record = cli("verify", action_id, "--api", server.url, anvil=anvil, data_dir=partner_dir)
    assert record.returncode == 0, record.stdout + record.stderr
    assert '"found": true' in record.stdout and "agrees" in record.stdout
    balance = cli("verify", resident.address, "--api", server.url, anvil=anvil, data_dir=partner_dir)
    assert balance.returncode == 0, balance.stdout + balance.stderr
    missing = cli("verify", "0x" + "ab" * 32, anvil=anvil, data_dir=data_dir)
    assert missing.returncode == 1 and '"found": false' in missing.stdout
