"""Sign-In with Ethereum messages: the EIP-4361 layout both ways, strict refusals, this server's
checks (domain, URI, chain, time) and the signature (ECDSA, else ERC-1271)."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import defunct_hash_message, encode_defunct
from hypothesis import given
from hypothesis import strategies as st

from ledger.staff import SignInRefusedError, SiweMessage
from ledger.staff.siwe import check_message, signature_ok

ACCOUNT = Account.from_key("0x" + "42" * 32)
NOW = 1_750_000_000.0  # 2025-06-15T15:06:40Z
EXPECTED = {"domain": "127.0.0.1:8000", "public_url": "http://127.0.0.1:8000", "chain_id": 31337}

# The example of EIP-4361, as it is written there (with our values).
SPEC_TEXT = f"""127.0.0.1:8000 wants you to sign in with your Ethereum account:
{ACCOUNT.address}

I accept the ExampleOrg Terms of Service: https://127.0.0.1:8000/tos

URI: http://127.0.0.1:8000/login
Version: 1
Chain ID: 31337
Nonce: 32891756abcdef01
Issued At: 2025-06-15T15:05:00Z
Expiration Time: 2025-06-15T15:10:00Z
Resources:
- ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/
- https://example.com/my-web2-claim.json"""


def message(**overrides: object) -> SiweMessage:
    fields: dict[str, object] = {
        "domain": "127.0.0.1:8000",
        "address": ACCOUNT.address,
        "uri": "http://127.0.0.1:8000",
        "chain_id": 31337,
        "nonce": "abcdef0123456789",
        "issued_at": "2025-06-15T15:05:00Z",
        "statement": "Sign in as staff.",
    }
    fields.update(overrides)
    return SiweMessage(**fields)  # type: ignore[arg-type]


def test_the_eips_example_parses_and_prints_back_the_same() -> None:
    parsed = SiweMessage.parse(SPEC_TEXT)
    assert parsed.address == ACCOUNT.address and parsed.chain_id == 31337
    assert parsed.nonce == "32891756abcdef01" and parsed.expiration_time == "2025-06-15T15:10:00Z"
    assert len(parsed.resources) == 2 and parsed.statement is not None
    assert parsed.text() == SPEC_TEXT
    check_message(parsed, now=NOW, **EXPECTED)  # type: ignore[arg-type]


def test_without_a_statement_there_are_two_empty_lines() -> None:
    text = message(statement=None).text()
    assert f"{ACCOUNT.address}\n\n\nURI: " in text
    assert SiweMessage.parse(text) == message(statement=None)


@given(
    statement=st.none()
    | st.text(
        st.characters(min_codepoint=32, max_codepoint=0x10FFFF, exclude_characters="\x7f\x85\u2028\u2029"),
        min_size=1,
        max_size=60,
    ).filter(lambda s: s.strip() == s and s.isprintable()),
    nonce=st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=8, max_size=32),
    chain_id=st.integers(1, 2**53),
    request_id=st.none() | st.text("abc123-_", min_size=1, max_size=12),
)
def test_what_we_print_we_parse(
    statement: str | None, nonce: str, chain_id: int, request_id: str | None
) -> None:
    m = message(statement=statement, nonce=nonce, chain_id=chain_id, request_id=request_id)
    assert SiweMessage.parse(m.text()) == m


@pytest.mark.parametrize(
    ("mutate", "why"),
    [
        (lambda t: t.replace("\n", "\r\n"), "CR"),
        (lambda t: t.replace(ACCOUNT.address, ACCOUNT.address.lower()), "checksummed"),
        (lambda t: t + "\n", "unexpected"),
        (lambda t: t.replace("Version: 1", "Version: 2"), "Version"),
        (lambda t: t.replace("Chain ID: 31337", "Chain ID: 0x7a69"), "Chain ID"),
        (lambda t: t.replace("Nonce: abcdef0123456789", "Nonce: short"), "Nonce"),
        (lambda t: t.replace("Issued At: 2025-06-15T15:05:00Z", "Issued At: 2025-06-15"), "date-time"),
        (lambda t: t.replace("Issued At: 2025-06-15T15:05:00Z", "Issued At: 2025-06-15T15:05:00"), "zone"),
        (lambda t: t.replace("wants you to sign in", "would like you to sign in"), "first line"),
        (lambda t: "\n".join(t.split("\n")[:-1]), "Issued At"),  # a required field missing
        (lambda t: t.replace("URI: http://127.0.0.1:8000", "URI: /relative"), "absolute"),
    ],
)
def test_anything_off_the_grammar_is_refused(mutate: object, why: str) -> None:
    text = mutate(message().text())  # type: ignore[operator]
    with pytest.raises(SignInRefusedError, match=why) as refused:
        SiweMessage.parse(text)
    assert refused.value.reason == "malformed_message"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"domain": "evil.example"}, "wrong_domain"),
        ({"uri": "http://evil.example/login"}, "wrong_uri"),
        ({"uri": "https://127.0.0.1:8000"}, "wrong_uri"),
        ({"chain_id": 1}, "wrong_chain"),
        ({"expiration_time": "2025-06-15T15:06:00Z"}, "expired"),
        ({"issued_at": "2025-06-15T15:20:00Z"}, "issued_in_future"),
        ({"not_before": "2025-06-15T16:00:00Z"}, "not_yet_valid"),
        ({"scheme": "https"}, "wrong_scheme"),
    ],
)
def test_the_servers_checks_each_say_why(overrides: dict[str, object], reason: str) -> None:
    with pytest.raises(SignInRefusedError) as refused:
        check_message(message(**overrides), now=NOW, **EXPECTED)  # type: ignore[arg-type]
    assert refused.value.reason == reason
    check_message(message(), now=NOW, **EXPECTED)  # type: ignore[arg-type]


def test_signatures_by_the_address_only_and_erc1271_when_asked() -> None:
    text = message().text()
    signature = ACCOUNT.sign_message(encode_defunct(text=text)).signature.to_0x_hex()
    assert signature_ok(text, ACCOUNT.address, signature)
    other = Account.create()
    assert not signature_ok(text, other.address, signature)
    assert not signature_ok(text + " ", ACCOUNT.address, signature)
    assert not signature_ok(text, ACCOUNT.address, "0x" + "00" * 65)
    assert not signature_ok(text, ACCOUNT.address, "0xzz")
    asked: list[tuple[str, bytes, bytes]] = []

    def wallet(address: str, digest: bytes, sig: bytes) -> bool:
        asked.append((address, digest, sig))
        return True

    assert signature_ok(text, other.address, "0x" + "ab" * 80, wallet)  # a smart account's own format
    assert asked == [(other.address, bytes(defunct_hash_message(text=text)), bytes.fromhex("ab" * 80))]
