"""How guessable a configured secret looks: an estimate of its entropy in bits, for the production
guards in `ledger.settings` (a token must carry at least 32 random bytes).

The estimate is the secret's length times the bits per character of the smallest usual alphabet it
fits (hex, base64/base64url, printable ASCII). A secret that uses its characters in a pattern (one
character repeated, a short run repeated) is scored by its distinct character pairs instead, so a
placeholder such as `0` * 64 or `changeme` * 8 fails however long it is. It cannot see that a
long English sentence is guessable: generate secrets, do not invent them (docs/operations.md).
"""

from __future__ import annotations

import math
import string

__all__ = ["MIN_SECRET_BITS", "estimated_bits"]

MIN_SECRET_BITS = 256  # 32 random bytes

_HEX = frozenset(string.hexdigits)
_BASE64 = frozenset(string.ascii_letters + string.digits + "+/-_=")


def estimated_bits(secret: str) -> int:
    """An estimate of the entropy of `secret` in bits (see the module docstring)."""
    text = secret.removeprefix("0x") if secret.startswith("0x") and _HEX.issuperset(secret[2:]) else secret
    if not text:
        return 0
    chars = set(text)
    alphabet = 16 if _HEX.issuperset(chars) else 64 if _BASE64.issuperset(chars) else 95
    per_char = math.log2(alphabet)
    bits = len(text) * per_char
    pairs = {text[i : i + 2] for i in range(len(text) - 1)}
    # Random text repeats few pairs and uses a good share of its alphabet; a pattern does neither.
    patterned = len(text) > 1 and (
        len(pairs) < 0.5 * (len(text) - 1) or len(chars) < min(alphabet, len(text)) / 4
    )
    if patterned:
        bits = min(bits, len(pairs) * per_char)
    return int(bits)
