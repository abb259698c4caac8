"""A platform as the tests drive it: registered in the server's own database (the library, as
`esg-ledger platform add` does), sending signed webhook deliveries and custody calls over HTTP."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import Session

from ledger.custody import LocalMasterKey
from ledger.db import make_engine
from ledger.platforms import add_platform, sign, sign_reauth

from ..support import Server


@dataclass
class PlatformUnderTest:
    id: str
    token: str
    secret: str

    @property
    def auth(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"}

    def signed(self, body: bytes, *, ts: int | None = None, secret: str | None = None) -> dict[str, str]:
        at = int(time.time()) if ts is None else ts
        return {
            "content-type": "application/json",
            "Webhook-Timestamp": str(at),
            "Webhook-Signature": sign((secret or self.secret).encode(), at, body),
        }

    def reauth(self, subject: str, *, ts: int | None = None) -> dict[str, str]:
        at = int(time.time()) if ts is None else ts
        return {
            "Reauth-Timestamp": str(at),
            "Reauth-Signature": sign_reauth(self.secret.encode(), subject, at),
        }

    def deliver(self, client: httpx.Client, body: bytes, **kw: Any) -> httpx.Response:
        return client.post(f"/v1/platforms/{self.id}/webhooks", content=body, headers=self.signed(body, **kw))


def delivery(event_id: str, *actions: tuple[str, str, dict[str, Any]]) -> bytes:
    """A delivery's raw body: (user id, kind, payload) per action."""
    items = [{"userId": u, "kind": k, "payload": p} for u, k, p in actions]
    return json.dumps({"id": event_id, "type": "actions", "actions": items}).encode()


def register(data_dir: Path, master_hex: str, platform_id: str, kinds: list[str]) -> PlatformUnderTest:
    engine = make_engine(f"sqlite:///{data_dir / 'ledger.db'}")
    try:
        with Session(engine) as session:
            issued = add_platform(
                session=session,
                keys=LocalMasterKey(bytes.fromhex(master_hex)),
                platform_id=platform_id,
                name=f"Test platform {platform_id}",
                kinds=kinds,
            )
            session.commit()
    finally:
        engine.dispose()
    return PlatformUnderTest(id=platform_id, token=issued.token, secret=issued.secret)


def custody_server(run: Path, rpc_url: str, data_dir: Path, master_hex: str, **env: str) -> Server:
    (run / "deployments").mkdir(exist_ok=True)
    for manifest in (data_dir / "deployments").glob("*.json"):
        (run / "deployments" / manifest.name).write_text(manifest.read_text())
    return Server(rpc_url=rpc_url, data_dir=run, ESG_CUSTODY_MASTER_KEY=master_hex, **env).start()


def new_master() -> str:
    return os.urandom(32).hex()
