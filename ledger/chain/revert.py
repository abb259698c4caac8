"""Turns ABI-encoded custom errors (revert data, ActionFailed reasons) into readable text."""

from __future__ import annotations

from typing import Any

from eth_abi.abi import decode
from eth_hash.auto import keccak

from ..errors import ContractRevertError


def _type_string(item: dict[str, Any]) -> str:
    kind = str(item["type"])
    if kind.startswith("tuple"):
        return "(" + ",".join(_type_string(c) for c in item["components"]) + ")" + kind[5:]
    return kind


class ErrorDecoder:
    """Knows every custom error in the given ABIs (plus Error(string) and Panic(uint256))."""

    def __init__(self, abis: list[list[dict[str, Any]]]) -> None:
        self._errors: dict[bytes, tuple[str, list[str], list[str]]] = {
            bytes.fromhex("08c379a0"): ("Error", ["message"], ["string"]),
            bytes.fromhex("4e487b71"): ("Panic", ["code"], ["uint256"]),
        }
        for abi in abis:
            for item in abi:
                if item.get("type") != "error":
                    continue
                types = [_type_string(i) for i in item["inputs"]]
                selector = keccak(f"{item['name']}({','.join(types)})".encode())[:4]
                self._errors[selector] = (item["name"], [i["name"] for i in item["inputs"]], types)

    def decode(self, data: bytes) -> ContractRevertError:
        known = self._errors.get(data[:4])
        if known is None:
            return ContractRevertError("UnknownError", {"data": "0x" + data.hex()}, data)
        name, names, types = known
        try:
            values = decode(types, data[4:])
        except Exception:
            return ContractRevertError(name, {"data": "0x" + data[4:].hex()}, data)
        rendered = {
            n: ("0x" + v.hex() if isinstance(v, bytes) else v) for n, v in zip(names, values, strict=True)
        }
        return ContractRevertError(name, rendered, data)

    def text(self, data: bytes) -> str:
        return str(self.decode(data))
