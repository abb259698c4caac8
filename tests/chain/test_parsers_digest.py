"""The strict parsers (ledger.kinds._fields) against the contracts, for every kind.

Whatever a kind's message parser accepts (integers as JSON numbers or as strings of ASCII decimal
digits, addresses in lower, upper or EIP-55 case, hex in any case) parses to values whose digest is
the contract's own digest of the values meant. And what they refuse includes every near miss a
hostile or careless client sends: hex with whitespace, a `0X` prefix, no prefix, an odd or wrong
length, non-ASCII digits; booleans, floats, negative and out-of-range integers (uint64 stops at
2**63 - 1: SQL integers are signed), an amount of 0; text with control characters or lone surrogates.
"""

from __future__ import annotations

from typing import Any

import pytest
from eth_account.messages import encode_typed_data
from eth_hash.auto import keccak
from eth_utils.address import to_checksum_address
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from web3 import Web3

from ledger.deploy import Deployment
from ledger.eip712 import MAX_SIGNATURE_BYTES, signature_bytes
from ledger.errors import InvalidActionError
from ledger.kinds import KINDS
from ledger.kinds.feedback import FeedbackPayload
from ledger.node import AnvilNode

DIGEST_FUNCTION = {
    "plogging": "digest",
    "feedback": "feedbackDigest",
    "support": "supportDigest",
    "redemption": "redemptionDigest",
    "donation": "donationDigest",
    "claim": "claimDigest",
}
# What each Solidity integer type accepts: the type's range, except uint64 (SQL's signed 64 bits).
INT_MAX = {"uint16": 2**16 - 1, "uint32": 2**32 - 1, "uint64": 2**63 - 1, "uint256": 2**256 - 1}
HEX_DIGITS = {"address": 40, "bytes32": 64}
WHITESPACE = [" ", "  ", "\t", "\n", "\r", "\r\n", "\x0b", "\x0c", "\u00a0", "\u2003", "\u3000", "\ufeff"]
# Arabic-Indic three, superscript two, fullwidth one, Persian three, NKo one, Bengali three, math bold one
NON_ASCII_DIGITS = ["\u0663", "\u00b2", "\uff11", "\u06f3", "\u07c1", "\u09e9", "\U0001d7cf"]
CONTROLS = [chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0))]
LONE_SURROGATES = ["\ud800", "\udbff", "\udc00", "\udfff"]
EXAMPLES = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def int_min(name: str) -> int:
    return 1 if name == "amount" else 0  # an amount of 0 moves nothing: refused


def typed_fields(model: type[BaseModel], kind: str) -> list[tuple[str, str]]:
    """The model's fields that carry one of the kind's EIP-712 fields, with its Solidity type
    (feedback's payload names its category: text, not the signed uint16)."""
    signed = dict(KINDS[kind].eip712.fields)
    out = []
    for name, info in model.model_fields.items():
        solidity = signed.get(name)
        if solidity is None:
            continue
        if (info.annotation is int) == solidity.startswith("uint"):
            out.append((name, solidity))
    return out


# --- what parses: any accepted spelling of a value


@st.composite
def uint(draw: st.DrawFn, name: str, solidity: str) -> tuple[int, Any]:
    lo, hi = int_min(name), INT_MAX[solidity]
    value = draw(st.one_of(st.sampled_from([lo, lo + 1, hi - 1, hi]), st.integers(lo, hi)))
    digits = str(value)
    spelled = draw(
        st.one_of(
            st.just(value),
            st.just(digits),
            st.integers(len(digits), 78).map(lambda width: digits.rjust(width, "0")),  # leading zeros
        )
    )
    return value, spelled


@st.composite
def address(draw: st.DrawFn) -> tuple[str, str]:
    raw = draw(st.binary(min_size=20, max_size=20))
    canonical = to_checksum_address(raw)
    spelled = draw(st.sampled_from(["0x" + raw.hex(), "0x" + raw.hex().upper(), canonical]))
    return canonical, spelled


@st.composite
def bytes32(draw: st.DrawFn) -> tuple[str, str]:
    digits = draw(st.binary(min_size=32, max_size=32)).hex()
    upper = draw(st.lists(st.booleans(), min_size=64, max_size=64))
    spelled = "".join(c.upper() if u else c for c, u in zip(digits, upper, strict=True))
    return "0x" + digits, "0x" + spelled


def spelled_value(name: str, solidity: str) -> st.SearchStrategy[tuple[Any, Any]]:
    if solidity == "address":
        return address()
    if solidity == "bytes32":
        return bytes32()
    return uint(name, solidity)


def as_struct(kind: str, values: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(
        bytes.fromhex(values[n][2:]) if t == "bytes32" else values[n] for n, t in KINDS[kind].eip712.fields
    )


def _generic_digest(typed: dict[str, Any]) -> bytes:
    signable = encode_typed_data(full_message=typed)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


@pytest.fixture(scope="module")
def contracts(anvil: AnvilNode, deployment: Deployment) -> dict[str, Any]:
    w3 = Web3(Web3.HTTPProvider(anvil.url, request_kwargs={"timeout": 60}))
    return {
        name: w3.eth.contract(address=Web3.to_checksum_address(c.address), abi=c.abi)
        for name, c in deployment.contracts.items()
    }


def test_integer_fields_are_the_ones_this_test_knows() -> None:
    for kind, spec in KINDS.items():
        for name, solidity in spec.eip712.fields:
            assert solidity in INT_MAX or solidity in HEX_DIGITS, (kind, name, solidity)
            if solidity == "uint256":
                assert name == "amount", f"{kind}.{name}: a uint256 that is not an amount"


@pytest.mark.parametrize("kind", sorted(KINDS))
@EXAMPLES
@given(data=st.data())
def test_what_the_parser_accepts_is_what_the_contract_digests(
    contracts: dict[str, Any], deployment: Deployment, kind: str, data: st.DataObject
) -> None:
    spec = KINDS[kind]
    canonical: dict[str, Any] = {}
    spelled: dict[str, Any] = {}
    for name, solidity in spec.eip712.fields:
        canonical[name], spelled[name] = data.draw(spelled_value(name, solidity), label=name)
    parsed = spec.message.model_validate(spelled).model_dump()
    assert parsed == canonical

    contract = contracts[spec.eip712.contract]
    address = deployment.address(spec.eip712.contract)
    ours = spec.eip712.digest(deployment.chain_id, address, parsed)
    theirs = bytes(getattr(contract.functions, DIGEST_FUNCTION[kind])(as_struct(kind, canonical)).call())
    assert ours == theirs
    # and a wallet signing the typed data `prepare` would hand out signs that very digest
    assert _generic_digest(spec.eip712.typed_data(deployment.chain_id, address, parsed)) == theirs


# --- what is refused


@st.composite
def hostile_hex(draw: st.DrawFn, solidity: str) -> Any:
    n = HEX_DIGITS[solidity]
    digits = draw(st.text(alphabet="0123456789abcdefABCDEF", min_size=n, max_size=n))
    good = "0x" + digits
    at = draw(st.integers(0, len(good)))
    i = draw(st.integers(0, n - 1))
    odd = draw(st.integers(0, n // 2).map(lambda k: 2 * k + 1))
    return draw(
        st.one_of(
            st.sampled_from(WHITESPACE).map(lambda ws: good[:at] + ws + good[at:]),  # edges or inside
            st.just("0X" + digits),
            st.just(digits),  # no prefix
            st.just("0x" + (digits + digits)[:odd]),  # odd length
            st.sampled_from([n - 2, n + 2, 0]).map(lambda k: "0x" + (digits + "00")[:k]),  # wrong length
            st.sampled_from(NON_ASCII_DIGITS).map(lambda d: "0x" + digits[:i] + d + digits[i + 1 :]),
            st.sampled_from("gGxzZ-").map(lambda c: "0x" + digits[:i] + c + digits[i + 1 :]),
            st.just("x0" + digits),
            st.just(""),
            st.booleans(),
            st.integers(),
            st.floats(),
            st.none(),
            st.just(bytes.fromhex(digits)),
            st.just([good]),
        )
    )


@st.composite
def wrong_checksum(draw: st.DrawFn) -> str:
    canonical = to_checksum_address(draw(st.binary(min_size=20, max_size=20)))
    letters = [i for i, c in enumerate(canonical) if i >= 2 and c.isalpha()]
    assume(letters)
    i = draw(st.sampled_from(letters))
    flipped = canonical[:i] + canonical[i].swapcase() + canonical[i + 1 :]
    body = flipped[2:]
    assume(body not in (body.lower(), body.upper()))  # still mixed case, so a checksum claim
    return flipped


@st.composite
def hostile_uint(draw: st.DrawFn, name: str, solidity: str) -> Any:
    lo, hi = int_min(name), INT_MAX[solidity]
    digits = str(draw(st.integers(lo, hi)))
    i = draw(st.integers(0, len(digits) - 1))
    return draw(
        st.one_of(
            st.booleans(),
            st.floats(),  # including 1.0, 1e3, nan, inf: a JSON number with a fraction or exponent
            st.integers(max_value=lo - 1),  # negative (and 0 for an amount)
            st.integers(min_value=hi + 1),  # out of range: 2**16, 2**32, 2**63, 2**64, 2**256 …
            st.integers(min_value=hi + 1, max_value=10**78 - 1).map(str),
            st.just("1" + "0" * 78),  # 79 digits
            st.sampled_from(NON_ASCII_DIGITS).map(lambda d: digits[:i] + d + digits[i + 1 :]),
            st.just(digits.translate(str.maketrans("0123456789", "".join(map(chr, range(0x0660, 0x066A)))))),
            st.sampled_from(WHITESPACE).map(lambda ws: ws + digits),
            st.sampled_from(WHITESPACE).map(lambda ws: digits + ws),
            st.sampled_from(["+", "-"]).map(lambda sign: sign + digits),
            st.just(str(lo - 1)),
            st.sampled_from(["", "1_000", "0x1f", "1e3", "1.0", "12a", "\u0661e\u0663", "NaN", "Infinity"]),
            st.none(),
            st.just([lo]),
            st.just({"value": lo}),
        )
    )


def hostile_value(name: str, solidity: str) -> st.SearchStrategy[Any]:
    if solidity == "address":
        return st.one_of(hostile_hex(solidity), wrong_checksum())
    if solidity == "bytes32":
        return hostile_hex(solidity)
    return hostile_uint(name, solidity)


def valid_values(model: type[BaseModel], kind: str) -> dict[str, Any]:
    """Values every field of the model accepts."""
    values: dict[str, Any] = {"category": "environment", "content": "more bins, please"}
    for name, solidity in KINDS[kind].eip712.fields:
        if name in model.model_fields and (name, solidity) in typed_fields(model, kind):
            values[name] = {"address": "0x" + "ab" * 20, "bytes32": "0x" + "cd" * 32}.get(solidity, 1)
    return {k: v for k, v in values.items() if k in model.model_fields}


CASES = [
    pytest.param(kind, role, name, solidity, id=f"{kind}-{role}-{name}")
    for kind, spec in sorted(KINDS.items())
    for role, model in (("message", spec.message), ("payload", spec.payload))
    for name, solidity in typed_fields(model, kind)
]


@pytest.mark.parametrize(("kind", "role", "name", "solidity"), CASES)
def test_valid_baseline_is_accepted(kind: str, role: str, name: str, solidity: str) -> None:
    model = getattr(KINDS[kind], role)
    model.model_validate(valid_values(model, kind))  # so that each refusal below is the field's


@pytest.mark.parametrize(("kind", "role", "name", "solidity"), CASES)
@EXAMPLES
@given(data=st.data())
def test_near_misses_are_refused_naming_the_field(
    kind: str, role: str, name: str, solidity: str, data: st.DataObject
) -> None:
    model: type[BaseModel] = getattr(KINDS[kind], role)
    bad = data.draw(hostile_value(name, solidity), label=name)
    values = valid_values(model, kind) | {name: bad}
    with pytest.raises(ValidationError) as refused:
        model.model_validate(values)
    assert [e["loc"] for e in refused.value.errors()] == [(name,)], refused.value.errors()


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_limits_are_exact(kind: str) -> None:
    """The last value in range parses; the first one out does not (uint64: 2**63 - 1, then 2**63)."""
    spec = KINDS[kind]
    for name, solidity in typed_fields(spec.message, kind):
        if solidity not in INT_MAX:
            continue
        base = valid_values(spec.message, kind)
        lo, hi = int_min(name), INT_MAX[solidity]
        for ok in (lo, hi, str(hi)):
            assert spec.message.model_validate(base | {name: ok}).model_dump()[name] == int(ok)
        for bad in (lo - 1, hi + 1, str(hi + 1), True, float(lo + 1)):
            with pytest.raises(ValidationError):
                spec.message.model_validate(base | {name: bad})
    if any(n == "amount" for n, _ in spec.eip712.fields):
        with pytest.raises(ValidationError):
            spec.message.model_validate(valid_values(spec.message, kind) | {"amount": "0"})


def test_extra_and_missing_fields_are_refused() -> None:
    for kind, spec in KINDS.items():
        for model in (spec.message, spec.payload):
            base = valid_values(model, kind)
            with pytest.raises(ValidationError) as extra:
                model.model_validate(base | {"calories": 300})
            assert [e["loc"] for e in extra.value.errors()] == [("calories",)]
        message = valid_values(spec.message, kind)
        for name in message:
            with pytest.raises(ValidationError):
                spec.message.model_validate({k: v for k, v in message.items() if k != name})


# --- text (feedback) and signatures


TEXT = st.text(st.characters(exclude_categories=["Cs", "Cc"]), min_size=1, max_size=64)


@EXAMPLES
@given(category=TEXT, content=TEXT)
def test_text_is_kept_as_written(category: str, content: str) -> None:
    assume(category.strip() and content.strip())
    parsed = FeedbackPayload.model_validate({"category": category, "content": content})
    assert (parsed.category, parsed.content) == (category, content)


@EXAMPLES
@given(
    field=st.sampled_from(["category", "content"]),
    text=TEXT,
    bad=st.sampled_from(CONTROLS + LONE_SURROGATES),
    at=st.integers(0, 64),
)
def test_control_characters_and_lone_surrogates_are_refused(field: str, text: str, bad: str, at: int) -> None:
    values = {"category": "environment", "content": "more bins"} | {field: text[:at] + bad + text[at:]}
    with pytest.raises(ValidationError) as refused:
        FeedbackPayload.model_validate(values)
    assert [e["loc"] for e in refused.value.errors()] == [(field,)]


@pytest.mark.parametrize("blank", [" ", "\t\n", "\u3000", "\r\n  "])
def test_blank_text_is_refused(blank: str) -> None:
    with pytest.raises(ValidationError):
        FeedbackPayload.model_validate({"category": "environment", "content": blank})


@EXAMPLES
@given(raw=st.binary(min_size=1, max_size=MAX_SIGNATURE_BYTES), upper=st.booleans())
def test_signatures_of_any_case_and_length_up_to_the_cap_parse(raw: bytes, upper: bool) -> None:
    digits = raw.hex().upper() if upper else raw.hex()
    assert signature_bytes("0x" + digits) == raw


@EXAMPLES
@given(
    bad=st.one_of(
        st.binary(min_size=65, max_size=65).flatmap(lambda raw: hostile_signature(raw.hex())),
        st.just("0x" + "ab" * (MAX_SIGNATURE_BYTES + 1)),
        st.just("0x" + "ab" * 3 * 1024),
    )
)
def test_bad_signatures_are_refused_naming_the_field(bad: Any) -> None:
    with pytest.raises(InvalidActionError) as refused:
        signature_bytes(bad)
    assert refused.value.field == "signature"


def hostile_signature(digits: str) -> st.SearchStrategy[Any]:
    good = "0x" + digits
    return st.one_of(
        st.tuples(st.sampled_from(WHITESPACE), st.integers(0, len(good))).map(
            lambda p: good[: p[1]] + p[0] + good[p[1] :]
        ),
        st.just("0X" + digits),
        st.just(digits),
        st.just(good[:-1]),
        st.just("0x"),
        st.sampled_from(NON_ASCII_DIGITS).map(lambda d: good[:-1] + d),
        st.booleans(),
        st.integers(),
        st.none(),
    )
