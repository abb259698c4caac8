"""EIP-1559 fees: what to offer now, and how to bump a stuck transaction, never above the hard cap."""

from __future__ import annotations

from dataclasses import dataclass

# Nodes accept a replacement only if both the fee cap and the tip rise by at least 10% (geth's
# default price bump); 12.5% keeps us clear of rounding on either side.
BUMP_NUMERATOR, BUMP_DENOMINATOR = 9, 8
MIN_BUMP_NUMERATOR, MIN_BUMP_DENOMINATOR = 11, 10
GWEI = 10**9


@dataclass(frozen=True)
class Fees:
    max_fee: int
    tip: int


def market(base_fee: int, *, tip_gwei: float, cap_gwei: float) -> Fees:
    """Twice the base fee plus the tip covers six full blocks of base-fee rises; never above the cap."""
    cap = int(cap_gwei * GWEI)
    tip = min(int(tip_gwei * GWEI), cap)
    return Fees(max_fee=min(2 * base_fee + tip, cap), tip=tip)


def _ceil_ratio(value: int, num: int, den: int) -> int:
    return -(-value * num // den)


def bump(old: Fees, now: Fees, *, cap_gwei: float) -> Fees | None:
    """A replacement's fees: at least +12.5% on both, at least the market; None if the cap forbids."""
    cap = int(cap_gwei * GWEI)
    max_fee = min(max(_ceil_ratio(old.max_fee, BUMP_NUMERATOR, BUMP_DENOMINATOR), now.max_fee), cap)
    tip = min(max(_ceil_ratio(old.tip, BUMP_NUMERATOR, BUMP_DENOMINATOR), now.tip), max_fee)
    if max_fee < _ceil_ratio(old.max_fee, MIN_BUMP_NUMERATOR, MIN_BUMP_DENOMINATOR) or tip < _ceil_ratio(
        old.tip, MIN_BUMP_NUMERATOR, MIN_BUMP_DENOMINATOR
    ):
        return None
    return Fees(max_fee=max_fee, tip=tip)
