"""An event's ABI fragment: its signature, and a log decoded by it (generically, with eth_abi)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eth_abi.abi import decode
from eth_utils.address import to_checksum_address

from ._errors import BundleError


def _type(item: Mapping[str, Any]) -> str:
    kind = str(item["type"])
    if kind.startswith("tuple"):
        return "(" + ",".join(_type(c) for c in item["components"]) + ")" + kind[5:]
    return kind


def signature(fragment: Mapping[str, Any]) -> str:
    return f"{fragment['name']}({','.join(_type(i) for i in fragment['inputs'])})"


def _json(kind: str, value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if kind == "address":
        return to_checksum_address(value)
    if isinstance(value, (list, tuple)):
        return [_json("", v) for v in value]
    return value


def decode_event(fragment: Mapping[str, Any], topics: list[str], data: str) -> dict[str, Any]:
    """The log's fields by the fragment's input names (indexed ones from topics 1…, the rest from data)."""
    inputs = fragment["inputs"]
    indexed = [i for i in inputs if i.get("indexed")]
    if len(topics) != len(indexed) + 1:
        raise BundleError(
            "record-mismatch",
            f"{fragment['name']} has {len(indexed)} indexed inputs, the log {len(topics) - 1} topics",
        )
    out: dict[str, Any] = {}
    try:
        for item, topic in zip(indexed, topics[1:], strict=True):
            kind = _type(item)
            dynamic = kind in ("string", "bytes") or kind.endswith("]") or kind.startswith("(")
            # an indexed dynamic value is only its hash
            value = topic if dynamic else decode([kind], bytes.fromhex(topic[2:]))[0]
            out[item["name"]] = _json(kind, value)
        rest = [i for i in inputs if not i.get("indexed")]
        values = decode([_type(i) for i in rest], bytes.fromhex(data[2:]))
        for item, value in zip(rest, values, strict=True):
            out[item["name"]] = _json(_type(item), value)
    except (ValueError, TypeError, IndexError) as exc:
        raise BundleError(
            "record-mismatch", f"the log does not decode as {signature(fragment)}: {exc}"
        ) from None
    except Exception as exc:  # eth_abi's DecodingError family
        raise BundleError(
            "record-mismatch", f"the log does not decode as {signature(fragment)}: {exc}"
        ) from None
    return {name: out[name] for name in (i["name"] for i in inputs)}
