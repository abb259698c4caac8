"""Which staff role names an address holds now, from the mirror of RoleGranted / RoleRevoked.

One read of `role_member` (a few rows per contract and role: the table holds who holds a role
now, not its history), mapped through `ledger.staff.roles.ROLE_GRANTS`. Read on every request,
never cached: a role revoked on chain stops working as soon as the indexer has stored the event.
"""

from __future__ import annotations

from collections.abc import Mapping

from eth_utils.address import to_checksum_address
from sqlalchemy import Connection, select

from ledger.staff.roles import ROLE_GRANTS

from .models import ROLE_MEMBER

__all__ = ["role_holders", "staff_roles"]


def _pairs(contracts: Mapping[str, str]) -> dict[tuple[str, str], list[str]]:
    """(contract address lowercased, role hash) → the role names it grants."""
    out: dict[tuple[str, str], list[str]] = {}
    for name, grants in ROLE_GRANTS.items():
        for contract, role in grants:
            address = contracts.get(contract)
            if address is not None:
                out.setdefault((address.lower(), role.lower()), []).append(name)
    return out


def staff_roles(
    conn: Connection, *, chain_id: int, contracts: Mapping[str, str], account: str
) -> frozenset[str]:
    """The role names `account` holds now, on the deployment whose `contracts` are {name: address}."""
    pairs = _pairs(contracts)
    m = ROLE_MEMBER.c
    rows = conn.execute(
        select(m.contract, m.role).where(
            m.chain_id == chain_id,
            m.account.in_({account, account.lower(), _checksum(account)}),
        )
    )
    names: set[str] = set()
    for contract, role in rows:
        names.update(pairs.get((contract.lower(), role.lower()), ()))
    return frozenset(names)


def role_holders(conn: Connection, *, chain_id: int, contracts: Mapping[str, str], role: str) -> list[str]:
    """Every address holding the role name `role` now (sorted), e.g. to list a deployment's admins."""
    wanted = [(contracts[c], h) for c, h in ROLE_GRANTS[role] if c in contracts]
    m = ROLE_MEMBER.c
    holders: set[str] = set()
    for contract, role_hash in wanted:
        rows = conn.execute(
            select(m.account).where(
                m.chain_id == chain_id,
                m.contract.in_({contract, contract.lower(), _checksum(contract)}),
                m.role == role_hash,
            )
        )
        holders.update(r[0] for r in rows)
    return sorted(holders)


def _checksum(address: str) -> str:
    try:
        return str(to_checksum_address(address))
    except ValueError:
        return address
