"""Hostile residents beside honest ones, at the API, all at once: every hostile input is refused with
a 4xx whose JSON error names the field, nothing answers 500, and every honest action is confirmed.

The hostile side sends what strict parsers exist for: hex with trailing spaces, a space inside,
`0X`, no prefix; an address without `0x`; Arabic-Indic and superscript digits as decimal strings;
NUL and lone surrogates in text; integers of 2**64 and `1e3`; signatures of 66 bytes and 3 KiB;
extra keys in the signed message; a domain whose chainId is `true`; bodies over the size limit. It
also takes honest residents' prepared typed data and submits tampered copies of it first.
"""

from __future__ import annotations

import json
import random
import re
import signal
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from ledger.deploy import Deployment
from ledger.node import AnvilNode

from ..support import Resident, Server, error_of, plogging_payload, wait_until
from .kinds_support import resident_reads
from .test_plogging_e2e import wait_final

MAX_BODY = 1024 * 1024
HEX64 = "ab" * 32
HEX62 = "ab" * 31
ARABIC_300 = "\u0663\u0660\u0660"  # Arabic-Indic digits: Python's int() reads 300, Solidity never sees them


@pytest.fixture(scope="module")
def server(anvil: AnvilNode, data_dir: Path, deployment: Deployment) -> Iterator[Server]:
    srv = Server(rpc_url=anvil.url, data_dir=data_dir, ESG_MAX_BODY_BYTES=str(MAX_BODY)).start()
    with srv.client() as client:  # feedback's categories come from the mirror
        wait_until(lambda: client.get("/v1/indexer/status").json()["lag"] == 0, 30, "the mirror")
    yield srv
    srv.stop()


LITERAL = re.compile(r'"@@(\w+)@@"')


def raw_json(body: Any, **literals: str) -> bytes:
    """JSON with every string "@@name@@" replaced by the literal `literals[name]` (1e3, …); lone
    surrogates stay escaped (\\ud800), as JSON allows and a UTF-8 encoder cannot."""
    text = json.dumps(body, ensure_ascii=True)
    return LITERAL.sub(lambda m: literals[m.group(1)], text).encode()


@dataclass
class Answer:
    case: str
    field: str | None  # the field the error must name ("x*": x or below it); None: any 4xx
    status: int
    body: Any

    def check(self) -> str | None:
        """What is wrong with this answer to a hostile request, if anything."""
        if not 400 <= self.status < 500:
            return f"{self.case}: expected a 4xx, got {self.status} {self.body}"
        error: Any = None
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            error = self.body["error"]  # a refused entry of a batch's 202
        elif isinstance(self.body, dict) and self.body.get("type") and "detail" in self.body:
            error = {"code": self.body.get("code"), "field": self.body.get("field"),
                     "message": self.body.get("detail")}  # fmt: skip
        if not isinstance(error, dict) or not error.get("message"):
            return f"{self.case}: no JSON error: {self.body}"
        named = str(error.get("field"))
        if self.field is not None and not (
            named.startswith(self.field[:-1]) if self.field.endswith("*") else named == self.field
        ):
            return f"{self.case}: names {error.get('field')!r}, not {self.field!r}: {error}"
        return None


def post(client: httpx.Client, case: str, field: str | None, path: str, body: Any, **lit: str) -> Answer:
    r = client.post(path, content=raw_json(body, **lit), headers={"content-type": "application/json"})
    try:
        parsed: Any = r.json()
    except ValueError:
        parsed = r.text
    return Answer(case, field, r.status_code, parsed)


# --- hostile prepares


def feedback(**changes: Any) -> dict[str, Any]:
    return {"category": "environment", "content": "쓰레기통이 넘칩니다", "areaCode": 41117, **changes}


PARTNER = "0x" + "ab" * 20
OFFER = "0x" + HEX64


@dataclass(frozen=True)
class Prepare:
    """A hostile prepare: `payload` changes one field (plogging: of a valid session), `literals`
    fills "@@name@@" placeholders with raw JSON, `field` is the payload field at fault."""

    case: str
    kind: str
    payload: dict[str, Any]
    field: str
    literals: tuple[tuple[str, str], ...] = ()


PREPARES = [
    Prepare(
        "evidence hash, 62 hex and two spaces",
        "plogging",
        {"evidenceHash": "0x" + HEX62 + "  "},
        "evidenceHash",
    ),
    Prepare(
        "evidence hash, a space inside",
        "plogging",
        {"evidenceHash": f"0x{HEX64[:32]} {HEX64[32:]}"},
        "evidenceHash",
    ),
    Prepare("evidence hash, 0X prefix", "plogging", {"evidenceHash": "0X" + HEX64}, "evidenceHash"),
    Prepare("evidence hash, no prefix", "plogging", {"evidenceHash": HEX64}, "evidenceHash"),
    Prepare("evidence hash, trailing newline", "plogging", {"evidenceHash": f"0x{HEX64}\n"}, "evidenceHash"),
    Prepare("distance in Arabic-Indic digits", "plogging", {"distanceMeters": ARABIC_300}, "distanceMeters"),
    Prepare("trash grams as superscript two", "plogging", {"trashGrams": "\u00b2"}, "trashGrams"),
    Prepare("distance of 2**64", "plogging", {"distanceMeters": 2**64}, "distanceMeters"),
    Prepare("distance 1e3", "plogging", {"distanceMeters": "@@x@@"}, "distanceMeters", (("x", "1e3"),)),
    Prepare("start at 2**63", "plogging", {"startedAt": 2**63}, "startedAt"),
    Prepare("duration true", "plogging", {"durationSeconds": True}, "durationSeconds"),
    Prepare("area code negative", "plogging", {"areaCode": -1}, "areaCode"),
    Prepare("content with NUL", "feedback", feedback(content="bins\u0000please"), "content"),
    Prepare("content with a lone surrogate", "feedback", feedback(content="bins \ud800"), "content"),
    Prepare("category with NUL", "feedback", feedback(category="environment\u0000"), "category"),
    Prepare("feedback area code 1e3", "feedback", feedback(areaCode="@@x@@"), "areaCode", (("x", "1e3"),)),
    Prepare("support of item 2**64", "support", {"itemId": 2**64}, "itemId"),
    Prepare("support of item \u0663", "support", {"itemId": "\u0663"}, "itemId"),
    Prepare(
        "partner without 0x",
        "redemption",
        {"partner": PARTNER[2:], "amount": 1, "offerHash": OFFER},
        "partner",
    ),
    Prepare("redemption of 0", "redemption", {"partner": PARTNER, "amount": 0, "offerHash": OFFER}, "amount"),
    Prepare(
        "offer hash 0X",
        "redemption",
        {"partner": PARTNER, "amount": 1, "offerHash": "0X" + HEX64},
        "offerHash",
    ),
    Prepare("donation of -5", "donation", {"causeId": 1, "amount": "-5"}, "amount"),
    Prepare("donation to cause true", "donation", {"causeId": True, "amount": 1}, "causeId"),
    Prepare("donation of 1.0", "donation", {"causeId": 1, "amount": "@@x@@"}, "amount", (("x", "1.0"),)),
    Prepare("claim of campaign \u0663", "claim", {"campaignId": "\u0663"}, "campaignId"),
    Prepare("claim of campaign 2**64", "claim", {"campaignId": 2**64}, "campaignId"),
    Prepare("an extra payload key", "claim", {"campaignId": 1, "proof": [OFFER]}, "proof"),
]


def hostile_prepare(client: httpx.Client, p: Prepare) -> Answer:
    payload = plogging_payload(**p.payload) if p.kind == "plogging" else p.payload
    body = {"kind": p.kind, "resident": Resident().address, "payload": payload}
    return post(client, p.case, "payload." + p.field, "/v1/actions/prepare", body, **dict(p.literals))


def request_prepares(client: httpx.Client) -> list[Answer]:
    """Hostile prepares whose fault is in the request itself, not the payload."""
    good = {"kind": "plogging", "resident": Resident().address, "payload": plogging_payload()}
    cases: list[tuple[str, str | None, dict[str, Any]]] = [
        ("resident without 0x", "resident", {"resident": "ab" * 20}),
        ("resident 0X", "resident", {"resident": "0X" + "ab" * 20}),
        ("kind with NUL", "kind", {"kind": "plogging\u0000"}),
        ("payload a list", "payload", {"payload": [1]}),
        ("payload key a lone surrogate", "payload*", {"payload": {**plogging_payload(), "\ud800": 1}}),
        ("request key a lone surrogate", None, {"\udfff": 1}),
    ]
    return [post(client, case, field, "/v1/actions/prepare", good | change) for case, field, change in cases]


# --- hostile submissions built from a victim's prepared typed data and signature


@dataclass(frozen=True)
class Submit:
    case: str
    build: Callable[[dict[str, Any], str], dict[str, Any]]  # (typed data, signature) → body
    field: str | None  # None: any 4xx with a JSON error
    literals: tuple[tuple[str, str], ...] = ()


def _message(typed: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**typed, "message": {**typed["message"], **changes}}


def _domain(typed: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**typed, "domain": {**typed["domain"], **changes}}


def _signed(typed: dict[str, Any], signature: Any) -> dict[str, Any]:
    return {"typedData": typed, "signature": signature}


def _wrong_checksum(address: str) -> str:
    """`address` (EIP-55) with one letter's case flipped: still mixed case, no longer its checksum."""
    i = next(i for i, c in enumerate(address) if i >= 2 and c.isalpha())
    return address[:i] + address[i].swapcase() + address[i + 1 :]


SUBMITS = [
    Submit("signature of 66 bytes", lambda t, s: _signed(t, s + "00"), "signature"),
    Submit("signature of 3 KiB", lambda t, s: _signed(t, "0x" + "ab" * 3072), "signature"),
    Submit("signature with a trailing space", lambda t, s: _signed(t, s + " "), "signature"),
    Submit("signature 0X", lambda t, s: _signed(t, "0X" + s[2:]), "signature"),
    Submit("signature of another key", lambda t, s: _signed(t, Resident().sign(t)), "signature"),
    Submit("signature a number", lambda t, s: _signed(t, 7), "signature"),
    Submit("extra key in the message", lambda t, s: _signed(_message(t, tip=1), s), "typedData.message.tip"),
    Submit(
        "domain chainId true", lambda t, s: _signed(_domain(t, chainId=True), s), "typedData.domain.chainId"
    ),
    Submit(
        "domain chainId in hex",
        lambda t, s: _signed(_domain(t, chainId="0x7a69"), s),
        "typedData.domain.chainId",
    ),
    Submit(
        "domain contract 0X",
        lambda t, s: _signed(_domain(t, verifyingContract="0X" + t["domain"]["verifyingContract"][2:]), s),
        "typedData.domain.verifyingContract",
    ),
    Submit(
        "domain contract with a wrong checksum",
        lambda t, s: _signed(
            _domain(t, verifyingContract=_wrong_checksum(t["domain"]["verifyingContract"])), s
        ),
        "typedData.domain.verifyingContract",
    ),
    Submit(
        "domain name with NUL",
        lambda t, s: _signed(_domain(t, name=t["domain"]["name"] + "\u0000"), s),
        "typedData.domain.name",
    ),
    Submit(
        "domain name a lone surrogate",
        lambda t, s: _signed(_domain(t, name="\ud800"), s),
        "typedData.domain.name",
    ),
    Submit("nonce of 2**64", lambda t, s: _signed(_message(t, nonce=2**64), s), "typedData.message.nonce"),
    Submit(
        "nonce in Arabic-Indic digits",
        lambda t, s: _signed(_message(t, nonce="\u0660"), s),
        "typedData.message.nonce",
    ),
    Submit(
        "deadline 1e3",
        lambda t, s: _signed(_message(t, deadline="@@x@@"), s),
        "typedData.message.deadline",
        (("x", "1e3"),),
    ),
    Submit(
        "resident without 0x",
        lambda t, s: _signed(_message(t, resident=t["message"]["resident"][2:]), s),
        "typedData.message.resident",
    ),
    Submit("message a list", lambda t, s: _signed({**t, "message": []}, s), "typedData.message"),
    Submit(
        "primary type with NUL",
        lambda t, s: _signed({**t, "primaryType": t["primaryType"] + "\u0000"}, s),
        "typedData.primaryType",
    ),
    Submit(
        "message key a lone surrogate",
        lambda t, s: _signed(_message(t, **{"\ud800": 1}), s),
        "typedData.message*",
    ),
]
PLOGGING_SUBMITS = [
    Submit(
        "evidence hash with trailing spaces",
        lambda t, s: _signed(_message(t, evidenceHash=t["message"]["evidenceHash"][:-2] + "  "), s),
        "typedData.message.evidenceHash",
    ),
    Submit(
        "distance 1e3",
        lambda t, s: _signed(_message(t, distanceMeters="@@x@@"), s),
        "typedData.message.distanceMeters",
        (("x", "1e3"),),
    ),
    Submit(
        "trash grams raised after signing",
        lambda t, s: _signed(_message(t, trashGrams=t["message"]["trashGrams"] + 1000), s),
        "signature",
    ),
]


def tampered_copies(client: httpx.Client, typed: dict[str, Any], signature: str) -> list[Answer]:
    """The victim's own prepared action, overheard and submitted tampered before the victim sends it."""
    cases = SUBMITS + (PLOGGING_SUBMITS if typed["primaryType"] == "PloggingSession" else [])
    return [
        post(client, c.case, c.field, "/v1/actions", c.build(typed, signature), **dict(c.literals))
        for c in cases
    ]


# --- the honest side


def honest(
    client: httpx.Client, resident: Resident, kind: str, payload: dict[str, Any]
) -> tuple[str, list[Answer]]:
    r = client.post(
        "/v1/actions/prepare", json={"kind": kind, "resident": resident.address, "payload": payload}
    )
    assert r.status_code == 200, r.text
    typed = r.json()["typedData"]
    signature = resident.sign(typed)
    refused = tampered_copies(client, typed, signature)
    # the hostile side also relays the untampered copy first: that is the resident's own action
    replayed = client.post("/v1/actions", json={"typedData": typed, "signature": signature})
    accepted = client.post("/v1/actions", json={"typedData": typed, "signature": signature})
    assert accepted.status_code == replayed.status_code == 202, (replayed.text, accepted.text)
    assert accepted.json()["id"] == replayed.json()["id"]
    return accepted.json()["id"], refused


# a task: what one client does; the ids of the honest actions it sent, the answers to hostile input
Task = Callable[[httpx.Client], tuple[list[str], list[Answer]]]


def test_hostile_residents_beside_honest_ones(server: Server) -> None:
    honest_residents = [Resident() for _ in range(6)]
    tasks: list[Task] = []

    def honest_task(resident: Resident) -> Task:
        def run(client: httpx.Client) -> tuple[list[str], list[Answer]]:
            ids, answers = [], []
            for kind, payload in (("plogging", plogging_payload()), ("feedback", feedback())):
                action_id, refused = honest(client, resident, kind, payload)
                ids.append(action_id)
                answers += refused
            return ids, answers

        return run

    def hostile_task(p: Prepare) -> Task:
        return lambda client: ([], [hostile_prepare(client, p)])

    tasks += [honest_task(r) for r in honest_residents]
    tasks += [hostile_task(p) for p in PREPARES]
    tasks.append(lambda client: ([], request_prepares(client)))
    random.Random(3).shuffle(tasks)

    def run(task: Task) -> tuple[list[str], list[Answer]]:
        with server.client() as client:
            return task(client)

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(run, tasks))
    ids = [i for found, _ in outcomes for i in found]
    answers = [a for _, found in outcomes for a in found]
    problems = [p for a in answers if (p := a.check()) is not None]
    assert not problems, "\n".join(problems)
    assert len(answers) >= len(PREPARES) + len(honest_residents) * 2 * len(SUBMITS)

    with server.client() as client:
        statuses = [wait_final(client, i) for i in ids]
        assert [s["status"] for s in statuses] == ["confirmed"] * len(ids), statuses
        for resident in honest_residents:  # each recorded once, nothing else in their name
            body = resident_reads(
                client,
                resident.address,
                lambda b: b["plogging"]["sessions"] == 1 and b["feedback"]["submitted"] == 1,
                "the honest resident's records in the mirror",
            )
            assert body["actions"] == {"confirmed": 2}
    assert "Exception in ASGI application" not in server.log.read_text()


def test_a_batch_mixing_hostile_and_honest_actions(server: Server) -> None:
    """In one /v1/actions/batch, each hostile entry gets its own error and each honest one its id."""
    with server.client() as client:
        residents = [Resident() for _ in range(3)]
        entries: list[tuple[dict[str, Any], Submit | None]] = []  # (body, the hostile case or None)
        for resident in residents:
            payload = {"kind": "plogging", "resident": resident.address, "payload": plogging_payload()}
            typed = client.post("/v1/actions/prepare", json=payload).json()["typedData"]
            signature = resident.sign(typed)
            entries.append(({"typedData": typed, "signature": signature}, None))
            for c in SUBMITS + PLOGGING_SUBMITS:
                # one JSON document: no literals, and no entry the batch's own schema refuses
                if not c.literals and c.case != "signature a number":
                    entries.append((c.build(typed, signature), c))
        random.Random(5).shuffle(entries)
        body = raw_json({"actions": [e for e, _ in entries]})
        r = client.post("/v1/actions/batch", content=body, headers={"content-type": "application/json"})
        assert r.status_code == 202, r.text
        results = r.json()["results"]
        assert len(results) == len(entries)
        ids, problems = [], []
        for (_, hostile), result in zip(entries, results, strict=True):
            if hostile is None:
                assert result.get("status") == "queued", result
                ids.append(result["id"])
            elif (problem := Answer(hostile.case, hostile.field, 422, result).check()) is not None:
                problems.append(problem)
        assert not problems, "\n".join(problems)
        assert len(ids) == len(residents)
        assert [wait_final(client, i)["status"] for i in ids] == ["confirmed"] * len(residents)


def test_hostile_reads_are_4xx(server: Server) -> None:
    with server.client() as client:
        for path in (
            "/v1/residents/" + "ab" * 20,
            "/v1/residents/0X" + "ab" * 20,
            "/v1/residents/0x" + "ab" * 20 + "%20",
            "/v1/residents/0x" + "٣" * 40,
            "/v1/feedback/" + str(2**64),
            "/v1/feedback/%D9%A3",
            "/v1/feedback?category=%00",
            "/v1/feedback?limit=1e3",
            "/v1/actions/0X" + "ab" * 32,
            "/v1/actions/0x" + "ab" * 31 + "%20%20",
        ):
            r = client.get(path)
            assert 400 <= r.status_code < 500, (path, r.status_code, r.text)
            assert error_of(r)["message"], (path, r.text)


@pytest.mark.parametrize("path", ["/v1/actions", "/v1/actions/batch"])  # test_body_limit: the rest
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_over_the_limit_is_a_413(server: Server, path: str, chunked: bool) -> None:
    filler = "0x" + "ab" * (MAX_BODY // 2)
    body = raw_json({"typedData": {"message": {"evidenceHash": filler}}, "signature": "0x00"})
    assert len(body) > MAX_BODY
    content: Any = body
    if chunked:  # no Content-Length: the server must count what arrives

        def pieces() -> Iterator[bytes]:
            for i in range(0, len(body), 64 * 1024):
                yield body[i : i + 64 * 1024]

        content = pieces()
    r = httpx.post(
        server.url + path, content=content, headers={"content-type": "application/json"}, timeout=30
    )
    if r.status_code != 413:
        assert r.status_code < 500, r.text
        pytest.skip(
            f"the server enforces no body limit of {MAX_BODY} bytes yet (ESG_MAX_BODY_BYTES): {r.status_code}"
        )
    assert error_of(r)["code"] == "payload_too_large"
    assert client_ok(server)


def client_ok(server: Server) -> bool:
    """The server still serves after refusing a large body."""
    return httpx.get(server.url + "/healthz", timeout=10).status_code == 200


@pytest.fixture
def spare_server(
    anvil: AnvilNode, tmp_path: Path, data_dir: Path, deployment: Deployment
) -> Iterator[Server]:
    """A server of its own (its own database, the same chain), for input that may bring it down."""
    (tmp_path / "deployments").mkdir()
    for manifest in (data_dir / "deployments").glob("*.json"):
        (tmp_path / "deployments" / manifest.name).write_text(manifest.read_text())
    srv = Server(rpc_url=anvil.url, data_dir=tmp_path).start()
    yield srv
    srv.stop()


def test_deeply_nested_json_is_a_4xx_and_the_server_lives_on(spare_server: Server) -> None:
    depth = 100_000  # a 200 KB body: well under any body limit
    body = b'{"typedData": ' + b"[" * depth + b"]" * depth + b', "signature": "0x00"}'
    for path in ("/v1/actions", "/v1/actions/batch", "/v1/actions/prepare"):
        try:
            r = httpx.post(
                spare_server.url + path, content=body, headers={"content-type": "application/json"}
            )
        except httpx.TransportError as exc:
            pytest.fail(f"{path}: no answer ({exc.__class__.__name__}); {exit_status(spare_server)}")
        assert 400 <= r.status_code < 500, (path, r.status_code, r.text)
        assert httpx.get(spare_server.url + "/healthz", timeout=10).status_code == 200


def exit_status(server: Server) -> str:
    try:
        code = server.process.wait(timeout=5) if server.process else None
    except subprocess.TimeoutExpired:
        return "the server is still running"
    return f"the server exited with {code}" + (" (SIGSEGV)" if code == -signal.SIGSEGV else "")
