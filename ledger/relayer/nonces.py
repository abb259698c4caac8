"""The relayer keys' nonces, allocated in SQL so that any number of processes can sign safely.

`allocate` runs inside the transaction that stores the signed transaction: it locks the key's row
(`SELECT … FOR UPDATE` on PostgreSQL; SQLite transactions already begin IMMEDIATE, one writer at a
time), so a nonce and the transaction that uses it commit together or not at all. A partial unique
index allows at most one in-flight transaction per (key, nonce) as a last line of defence.

A nonce counts as used once the node accepted a transaction for it or it is mined. So `reconcile`
compares each key with the chain: a signed transaction the node never accepted and that is the
key's last one gives its nonce back; a hole below in-flight nonces is filled with a no-op; and
with nothing in flight the key starts exactly at the chain's pending nonce (the chain may have
moved either way: reset, restarted from an older state, or another signer).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from ..models import IN_FLIGHT, RelayerAccount, RelayTx


@dataclass(frozen=True)
class ChainNonces:
    latest: int  # transactions mined
    pending: int  # mined plus those in the node's pool


def lock_account(*, session: Session, sender: str) -> RelayerAccount:
    account = session.get(RelayerAccount, sender, with_for_update=True)
    if account is None:
        account = RelayerAccount(address=sender, next_nonce=0)
        session.add(account)
        session.flush()
    return account


def allocate(*, session: Session, sender: str) -> int:
    account = lock_account(session=session, sender=sender)
    nonce = account.next_nonce
    account.next_nonce += 1
    session.add(account)
    return nonce


def in_flight_nonces(*, session: Session, sender: str) -> list[int]:
    rows = session.exec(
        select(RelayTx.nonce).where(RelayTx.sender == sender, col(RelayTx.status).in_(IN_FLIGHT))
    ).all()
    return sorted(int(n) for n in rows)


def _plan(next_nonce: int | None, in_flight: list[int], chain: ChainNonces) -> tuple[int, list[int]]:
    """The key's next nonce and the gaps to fill, given what is in flight and the chain."""
    flying = [n for n in in_flight if n >= chain.latest]
    if not flying:
        return chain.pending, []
    taken = set(flying)
    target = max(next_nonce or 0, chain.latest, flying[-1] + 1)
    return target, [n for n in range(chain.latest, flying[-1]) if n not in taken]


def needs_reconcile(*, session: Session, chain: dict[str, ChainNonces]) -> list[str]:
    """The keys whose next nonce disagrees with the chain or that have gaps to fill. A cheap read of
    every key at once (two queries a relayer tick): most ticks find all in agreement and write nothing."""
    accounts = {
        str(address): int(next_nonce)
        for address, next_nonce in session.exec(
            select(RelayerAccount.address, RelayerAccount.next_nonce).where(
                col(RelayerAccount.address).in_(list(chain))
            )
        ).all()
    }
    in_flight: dict[str, list[int]] = {key: [] for key in chain}
    for sender, nonce in session.exec(
        select(RelayTx.sender, RelayTx.nonce).where(
            col(RelayTx.sender).in_(list(chain)), col(RelayTx.status).in_(IN_FLIGHT)
        )
    ).all():
        in_flight[str(sender)].append(int(nonce))
    due = []
    for key, nonces in chain.items():
        target, gaps = _plan(accounts.get(key), sorted(in_flight[key]), nonces)
        if key not in accounts or accounts[key] != target or gaps:
            due.append(key)
    return due


def reconcile(*, session: Session, sender: str, chain: ChainNonces) -> list[int]:
    """Moves the key's next nonce to agree with the chain; returns the nonces that need a no-op.

    Runs with the key's row locked, so no other process allocates meanwhile.
    """
    account = lock_account(session=session, sender=sender)
    target, gaps = _plan(account.next_nonce, in_flight_nonces(session=session, sender=sender), chain)
    account.next_nonce = target
    session.add(account)
    return gaps
