"""What the relayer's keys may sign: an allow-list of (target contract, function selector).

The default list is every registered batch kind's (contract, batch function) in this deployment,
plus the StaffForwarder's `executeBatch` and `execute`; `ESG_RELAYER_ALLOWLIST` narrows it to
entries named `Contract.function` (e.g. `PloggingRegistry.recordBatch`,
`StaffForwarder.executeBatch`). A call to the forwarder is checked inside too: every request it
carries must call a staff function of a ledger contract (`ledger.kinds.staff.STAFF_FUNCTIONS`)
with no value, and an `executeBatch` must name the signing key itself as refund receiver (never
address(0), which would let one invalid request revert the batch). A no-op (an empty
self-transfer that only uses up a nonce) is always allowed. Nothing outside the list is signed,
whatever the code above asks.
"""

from __future__ import annotations

from ..deploy import Deployment
from ..errors import ConfigurationError, PolicyViolationError
from ..kinds import staff
from .kinds import KINDS


class TargetPolicy:
    def __init__(self, deployment: Deployment, allow: list[str]) -> None:
        named: dict[str, tuple[str, bytes]] = {
            f"{k.contract}.{k.function}": (k.contract, k.selector) for k in KINDS.values()
        }
        for function, selector in staff.EXECUTE_SELECTORS.items():
            named[f"{staff.FORWARDER}.{function}"] = (staff.FORWARDER, selector)
        unknown = sorted(set(allow) - set(named))
        if unknown:
            raise ConfigurationError(
                f"ESG_RELAYER_ALLOWLIST names {unknown}; known entries are {sorted(named)}"
            )
        chosen = [named[n] for n in allow] if allow else list(named.values())
        self.allowed = frozenset(
            (deployment.address(contract).lower(), "0x" + selector.hex())
            for contract, selector in chosen
            if contract in deployment.contracts
        )
        addresses = {name: c.address for name, c in deployment.contracts.items()}
        self.forwarder = addresses[staff.FORWARDER].lower() if staff.FORWARDER in addresses else None
        self.staff_calls = staff.allowed_calls(addresses)

    def check(self, *, sender: str, to: str, data: bytes) -> None:
        if to.lower() == sender.lower() and not data:
            return  # a no-op
        selector = "0x" + data[:4].hex()
        if (to.lower(), selector) not in self.allowed:
            raise PolicyViolationError(to, selector)
        if to.lower() == self.forwarder:
            self._check_requests(sender=sender, to=to, data=data)

    def _check_requests(self, *, sender: str, to: str, data: bytes) -> None:
        try:
            requests, receiver = staff.decode_requests(data)
        except Exception:
            raise PolicyViolationError(to, "0x" + data[:4].hex()) from None
        if receiver is not None and receiver.lower() != sender.lower():
            raise PolicyViolationError(
                to, f"0x{data[:4].hex()} (refund receiver {receiver}, not the relayer)"
            )
        for _from, target, value, _gas, _deadline, inner, _signature in requests:
            inner = bytes(inner)
            if value != 0 or (str(target).lower(), inner[:4]) not in self.staff_calls:
                raise PolicyViolationError(str(target), f"0x{inner[:4].hex()} (inside a forward request)")
