"""Off-chain profiles of partners, causes and campaigns: their names and descriptions.

On chain each is known only by its key (a partner's address, a cause's or campaign's id) and a
`metadataHash`; the names are marketing or personal data (a shop's owner, a sponsor) and live here,
in SQL, where they can be corrected or erased. `metadata_hash(name, description)` is what goes on
chain: keccak256 of the canonical JSON of the two, so anyone holding a profile can check it against
the chain (the public reads report whether it matches).
"""

from __future__ import annotations

import json
import time
from enum import StrEnum

from eth_hash.auto import keccak
from sqlalchemy import BigInteger, Column, Text
from sqlmodel import Field, Session, SQLModel, select

__all__ = ["DirectoryProfile", "ProfileKind", "get_profiles", "metadata_hash", "put_profile"]


class ProfileKind(StrEnum):
    PARTNER = "partner"
    CAUSE = "cause"
    CAMPAIGN = "campaign"


class DirectoryProfile(SQLModel, table=True):
    """One profile per (chain, kind, key); `key` is the checksummed address or the decimal id."""

    __tablename__ = "directory_profile"

    chain_id: int = Field(primary_key=True, sa_type=BigInteger)
    kind: str = Field(primary_key=True, max_length=16)
    key: str = Field(primary_key=True, max_length=80)
    name: str = Field(max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    demo: bool = False
    metadata_hash: str = Field(max_length=66)
    created_at: float
    updated_at: float


def metadata_hash(name: str, description: str = "") -> str:
    """keccak256 of `{"description": …, "name": …}` as canonical JSON (sorted keys, no spaces, UTF-8)."""
    canonical = json.dumps(
        {"description": description, "name": name}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return "0x" + keccak(canonical.encode("utf-8")).hex()


def put_profile(
    *,
    session: Session,
    chain_id: int,
    kind: ProfileKind | str,
    key: str,
    name: str,
    description: str = "",
    demo: bool = False,
) -> DirectoryProfile:
    """Creates or replaces the profile of `kind` `key` (added to the session; the caller commits)."""
    kind = ProfileKind(kind)
    now = time.time()
    row = session.get(DirectoryProfile, (chain_id, kind.value, key))
    if row is None:
        row = DirectoryProfile(
            chain_id=chain_id,
            kind=kind.value,
            key=key,
            name=name,
            description=description,
            demo=demo,
            metadata_hash=metadata_hash(name, description),
            created_at=now,
            updated_at=now,
        )
    else:
        row.name, row.description, row.demo = name, description, demo
        row.metadata_hash, row.updated_at = metadata_hash(name, description), now
    session.add(row)
    return row


def get_profiles(
    *, session: Session, chain_id: int, kind: ProfileKind | str, keys: list[str]
) -> dict[str, DirectoryProfile]:
    """The profiles of these keys that exist, by key."""
    if not keys:
        return {}
    query = select(DirectoryProfile).where(
        DirectoryProfile.chain_id == chain_id,
        DirectoryProfile.kind == ProfileKind(kind).value,
        DirectoryProfile.key.in_(sorted(set(keys))),  # type: ignore[attr-defined]
    )
    return {p.key: p for p in session.exec(query)}
