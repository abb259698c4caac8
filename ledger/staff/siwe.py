"""Staff Sign-In with Ethereum: the generic EIP-4361 parts (`ledger.siwe`), refusing with the staff
sign-in error (`SignInRefusedError`, logged with its reason), and the staff's single-use nonces."""

from __future__ import annotations

from sqlalchemy import delete, update
from sqlmodel import Session, col

from .. import siwe as _siwe
from ..siwe import Erc1271, SiweRefusedError, epoch, new_nonce, origin, signature_ok
from .errors import SignInRefusedError
from .models import SiweNonce

__all__ = [
    "Erc1271",
    "SiweMessage",
    "check_message",
    "consume_nonce",
    "epoch",
    "issue_nonce",
    "origin",
    "signature_ok",
]


class SiweMessage(_siwe.SiweMessage):
    @classmethod
    def parse(cls, text: str) -> SiweMessage:
        """Strictly by the EIP's grammar; raises SignInRefusedError("malformed_message") otherwise."""
        try:
            parsed = _siwe.SiweMessage.parse(text)
        except SiweRefusedError as exc:
            raise SignInRefusedError(exc.reason, exc.message) from None
        return cls(**parsed.__dict__)


def check_message(
    message: _siwe.SiweMessage, *, domain: str, public_url: str, chain_id: int, now: float
) -> None:
    """This server's expectations; raises SignInRefusedError with the reason (wrong_domain, …)."""
    try:
        _siwe.check_message(message, domain=domain, public_url=public_url, chain_id=chain_id, now=now)
    except SiweRefusedError as exc:
        raise SignInRefusedError(exc.reason, exc.message) from None


def issue_nonce(*, session: Session, ttl: float, now: float) -> SiweNonce:
    session.execute(delete(SiweNonce).where(col(SiweNonce.expires_at) < now - 3600))
    row = SiweNonce(nonce=new_nonce(), created_at=now, expires_at=now + ttl)
    session.add(row)
    return row


def consume_nonce(*, session: Session, nonce: str, now: float) -> bool:
    """True once for a nonce this server issued, unused and unexpired (atomic across workers)."""
    result = session.execute(
        update(SiweNonce)
        .where(
            col(SiweNonce.nonce) == nonce,
            col(SiweNonce.used_at).is_(None),
            col(SiweNonce.expires_at) > now,
        )
        .values(used_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
