"""What the relayer's keys may sign: an allow-list of (target contract, function selector).

The default list is every registered batch kind's (contract, batch function) in this deployment;
`ESG_RELAYER_ALLOWLIST` narrows it to entries named `Contract.function` (e.g.
`PloggingRegistry.recordBatch`). A no-op (an empty self-transfer that only uses up a nonce) is
always allowed. Nothing outside the list is signed, whatever the code above asks.
"""

from __future__ import annotations

from ..deploy import Deployment
from ..errors import ConfigurationError, PolicyViolationError
from .kinds import KINDS


class TargetPolicy:
    def __init__(self, deployment: Deployment, allow: list[str]) -> None:
        named = {f"{k.contract}.{k.function}": k for k in KINDS.values()}
        unknown = sorted(set(allow) - set(named))
        if unknown:
            raise ConfigurationError(
                f"ESG_RELAYER_ALLOWLIST names {unknown}; known entries are {sorted(named)}"
            )
        chosen = [named[n] for n in allow] if allow else list(named.values())
        self.allowed = frozenset(
            (deployment.address(k.contract).lower(), "0x" + k.selector.hex())
            for k in chosen
            if k.contract in deployment.contracts
        )

    def check(self, *, sender: str, to: str, data: bytes) -> None:
        if to.lower() == sender.lower() and not data:
            return  # a no-op
        selector = "0x" + data[:4].hex()
        if (to.lower(), selector) not in self.allowed:
            raise PolicyViolationError(to, selector)
