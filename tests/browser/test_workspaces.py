"""The ESG team's workspace (/dashboard) and the partner desk (/partner) in a real headless Chromium,
against a real server and anvil: a custodial staff member signs in with password + TOTP, verifies a
pending session from the queue and enrols a resident at the desk; a partner signs in with its key,
pastes a resident's redemption request, previews and accepts it and sees it in its list; records are
checked on chain from the page; axe finds nothing in Korean or English; nothing scrolls sideways at
320 px."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pyotp
import pytest
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data
from eth_hash.auto import keccak
from playwright.sync_api import Browser, FilePayload, Page, expect

from ledger.custody import LocalMasterKey
from ledger.db import make_engine, session_scope
from ledger.deploy import Deployment
from ledger.partners.keys import issue_key
from ledger.settings import Settings
from ledger.staff.members import invite_member

from ..e2e.test_feedback import prepare_feedback
from ..e2e.test_plogging_e2e import submit_signed, wait_final
from ..e2e.test_staff_role_matrix import Deployer
from ..support import Resident, Server, wait_until
from .conftest import MASTER_KEY
from .helpers import SHOTS, axe, fits, listen, opened, quiet

pytestmark = pytest.mark.browser
PENDING_GRAMS = 2_000  # above the auto-accept threshold set below: the session waits for a verifier
AREA = 41117
OFFER = "0x" + "be" * 32
STAFF_ROLES = ["verifier", "reviewer", "moderator", "enroller", "auditor"]


class Custodial:
    """A staff member whose key the city keeps, signing in with password + TOTP."""

    def __init__(self, server: Server) -> None:
        self.login = f"desk.{int(time.time() * 1000) % 10**9}"
        engine = make_engine(f"sqlite:///{server.data_dir / 'ledger.db'}")
        with session_scope(engine) as session:
            invitation = invite_member(
                session=session,
                name="김데스크 (Kim Desk)",
                created_by="test",
                now=time.time(),
                login=self.login,
                keys=LocalMasterKey(bytes.fromhex(MASTER_KEY)),
            )
            self.address = invitation.member.address
            assert invitation.password is not None and invitation.totp_uri is not None
            self.password = invitation.password
            totp = pyotp.parse_uri(invitation.totp_uri)
            assert isinstance(totp, pyotp.TOTP)
            self.totp = totp
        engine.dispose()


@pytest.fixture(scope="module")
def deployer(settings: Settings, deployment: Deployment, server: Server) -> Deployer:
    d = Deployer(settings, deployment)
    # sessions with more litter than 1 kg are Pending and wait in the verification queue
    d.send("PloggingRegistry", "setThresholds", (2**32 - 1, 1_000, 2**64 - 1))
    return d


def mirrored_past(server: Server, receipt: Any) -> None:
    """Waits until the indexer has read the block of `receipt` (the API authorizes from the mirror)."""
    block = int(receipt["blockNumber"])
    with server.client() as c:
        wait_until(lambda: (c.get("/v1/indexer/status").json()["indexed"] or 0) >= block, 30, "the mirror")


@pytest.fixture(scope="module")
def member(server: Server, deployer: Deployer) -> Custodial:
    m = Custodial(server)
    for role in STAFF_ROLES:
        deployer.grant(role, m.address)
    mirrored_past(server, {"blockNumber": deployer.w3.eth.block_number})
    return m


def sign_in(page: Page, member: Custodial) -> None:
    page.get_by_label("아이디").fill(member.login)
    page.get_by_label("비밀번호", exact=True).fill(member.password)
    page.get_by_label("인증 앱의 6자리 코드").fill(member.totp.now())
    page.get_by_role("button", name="로그인", exact=True).click()
    expect(page.locator("#me-name")).to_have_text("김데스크 (Kim Desk)", timeout=15_000)


def test_staff_member_verifies_a_pending_session_and_enrols_a_resident_at_the_desk(
    server: Server, page: Page, console: list[str], member: Custodial
) -> None:
    client = server.client()
    resident = Resident()
    accepted = submit_signed(client, resident, areaCode=AREA)[2]
    pending = submit_signed(client, resident, trashGrams=PENDING_GRAMS, areaCode=AREA)[2]
    assert [wait_final(client, i)["status"] for i in (accepted, pending)] == ["confirmed", "confirmed"]
    wait_until(
        lambda: (
            {accepted, pending}
            <= {s["id"] for s in client.get(f"/v1/plogging/sessions?resident={resident.address}").json()}
        ),
        30,
        "the mirror to show both sessions",
    )

    opened(page, server, "/dashboard")
    expect(page.locator("#signin")).to_be_visible()
    expect(page.locator("#verification")).to_be_hidden()
    sign_in(page, member)
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["esg_staff_session"]["httpOnly"] and not cookies["esg_staff_csrf"]["httpOnly"]
    assert page.evaluate("Object.keys(localStorage).filter(k => k.includes('staff'))") == []
    expect(page.locator("#me-roles")).to_contain_text("검증")
    expect(page.locator("#me-roles")).to_contain_text("창구 등록")

    card = page.locator(f'#queue li[data-digest="{pending}"]')
    expect(card).to_contain_text(f"쓰레기 {PENDING_GRAMS:,} g", timeout=15_000)
    expect(card).to_contain_text(resident.address)
    evidence = client.get(f"/v1/plogging/sessions?resident={resident.address}").json()
    assert any(s["evidenceHash"] in card.inner_text() for s in evidence if s["id"] == pending)
    # the auditor's charts: the accepted session's litter in its area, as the chart's list of numbers
    expect(page.locator("#chart-areas-data")).to_contain_text(f"지역 {AREA}")
    expect(page.locator("#charts-source")).to_contain_text("감사 지표")
    assert axe(page) == []

    card.get_by_role("button", name="인정", exact=True).click()
    expect(card.locator("p.status")).to_contain_text("기록되었습니다 (블록", timeout=60_000)
    wait_until(
        lambda: (
            next(
                s["status"]
                for s in client.get(f"/v1/plogging/sessions?resident={resident.address}").json()
                if s["id"] == pending
            )
            == "accepted"
        ),
        30,
        "the mirror to show the session verified",
    )
    staff_action = card.locator(".proof-slot code").first.inner_text()
    outcome = client.get(f"/v1/actions/{staff_action}").json()
    assert outcome["status"] == "confirmed" and outcome["kind"] == "staff"

    # desk mode: the consent form is hashed in the browser; the chain names this member as the enroller
    newcomer = Resident()
    form = "동의서 · consent form, signed at the desk".encode()
    page.get_by_label("주민 주소").fill(newcomer.address)
    page.get_by_label("창구 코드").fill("desk:test-city-hall")
    page.get_by_label("스캔한 동의서 파일").set_input_files(
        files=FilePayload(name="consent.pdf", mimeType="application/pdf", buffer=form)
    )
    expect(page.get_by_label("동의서 해시 (keccak256)")).to_have_value("0x" + keccak(form).hex())
    page.get_by_role("button", name="주민 등록하기").click()
    expect(page.locator("#desk-status")).to_have_text("주민의 동의를 확인하고 체크해야 등록할 수 있습니다.")
    page.get_by_label("주민이 동의서에 서명했고, 본인임을 확인했습니다.").check()
    page.get_by_role("button", name="주민 등록하기").click()
    expect(page.locator("#desk-status")).to_contain_text("등록되었습니다 (블록", timeout=60_000)
    enrolment = wait_until(
        lambda: (r := client.get(f"/v1/enrolments/{newcomer.address}")).status_code == 200 and r.json(),
        30,
        "the mirror to show the enrolment",
    )
    assert enrolment["partyName"] == "desk:test-city-hall"
    assert enrolment["enroller"] == member.address
    assert enrolment["evidenceHash"] == "0x" + keccak(form).hex()

    # desk mode, for a resident with no device: act for them by the desk's reference, with consent
    reference = f"case-{int(time.time() * 1000) % 10**9}"
    page.get_by_label("창구 접수 번호").fill(reference)
    for field, value in (("#desk-distance", "800"), ("#desk-minutes", "30"), ("#desk-trash", "400")):
        page.locator(field).fill(value)
    page.locator("#desk-area").fill(str(AREA))
    act_form = "대리 활동 동의서 · assisted consent".encode()
    page.get_by_label("대리 활동 동의서 (스캔 파일)").set_input_files(
        files=FilePayload(name="assisted.pdf", mimeType="application/pdf", buffer=act_form)
    )
    page.get_by_role("button", name="주민을 대신해 보내기").click()
    expect(page.locator("#desk-act-status")).to_have_text(
        "주민의 동의를 확인하고 체크해야 대신 보낼 수 있습니다."
    )
    page.get_by_label("주민이 이 활동을 대신 기록하는 데 동의했고").check()
    page.get_by_role("button", name="주민을 대신해 보내기").click()
    expect(page.locator("#desk-act-status")).to_contain_text(
        "블록체인에 기록되었습니다 (블록", timeout=60_000
    )
    (logged,) = page.request.get(f"{server.url}/v1/staff/desk/actions?reference={reference}").json()["items"]
    assert page.locator("#desk-act-id").inner_text().startswith(f"활동 번호 {logged['actionId']}")
    assert (logged["staffAddress"], logged["consentHash"]) == (member.address, "0x" + keccak(act_form).hex())
    assert client.get(f"/v1/actions/{logged['actionId']}").json()["status"] == "confirmed"

    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Sessions to verify")).to_be_visible()
    assert axe(page) == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "dashboard.png"), full_page=True)
    page.set_viewport_size({"width": 320, "height": 800})  # the queues, charts and desk on a phone
    page.get_by_role("button", name="Refresh").first.click()
    fits(page)
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("#signin-status")).to_have_text("You are signed out.")
    expect(page.locator("#verification")).to_be_hidden()
    client.close()
    quiet(console)


def test_wallet_member_signs_in_with_siwe_and_signs_the_verification_in_the_wallet(
    server: Server, page: Page, console: list[str], deployer: Deployer
) -> None:
    wallet = Account.create()
    engine = make_engine(f"sqlite:///{server.data_dir / 'ledger.db'}")
    with session_scope(engine) as session:
        invite_member(
            session=session,
            name="박지갑 (Park Wallet)",
            created_by="test",
            now=time.time(),
            address=wallet.address,
        )
    engine.dispose()
    deployer.grant("verifier", wallet.address)
    mirrored_past(server, {"blockNumber": deployer.w3.eth.block_number})
    resident = Resident()
    with server.client() as c:
        pending = submit_signed(c, resident, trashGrams=PENDING_GRAMS)[2]
        assert wait_final(c, pending)["status"] == "confirmed"
        wait_until(
            lambda: any(
                s["id"] == pending for s in c.get(f"/v1/plogging/sessions?resident={resident.address}").json()
            ),
            30,
            "the mirror to show the session",
        )
    signed: list[str] = []

    def personal_sign(message_hex: str) -> str:
        signed.append("personal_sign")
        return str(Account.sign_message(encode_defunct(hexstr=message_hex), wallet.key).signature.to_0x_hex())

    def sign_typed(typed: str) -> str:
        signed.append("eth_signTypedData_v4")
        return str(
            Account.sign_message(
                encode_typed_data(full_message=json.loads(typed)), wallet.key
            ).signature.to_0x_hex()
        )

    page.expose_function("esgPersonalSign", personal_sign)
    page.expose_function("esgSignTypedData", sign_typed)
    page.add_init_script(f"""
        window.ethereum = {{
          request: async ({{method, params}}) => {{
            if (method === "eth_requestAccounts") return ["{wallet.address}"];
            if (method === "personal_sign") return await window.esgPersonalSign(params[0]);
            if (method === "eth_signTypedData_v4") return await window.esgSignTypedData(params[1]);
            throw new Error("unsupported " + method);
          }}
        }};""")
    opened(page, server, "/dashboard")
    page.get_by_role("button", name="브라우저 지갑으로 로그인").click()
    expect(page.locator("#me-name")).to_have_text("박지갑 (Park Wallet)", timeout=15_000)
    expect(page.locator("#me-mode")).to_have_text("내 브라우저 지갑으로 서명합니다.")
    card = page.locator(f'#queue li[data-digest="{pending}"]')
    card.get_by_role("button", name="인정", exact=True).click()
    expect(card.locator("p.status")).to_contain_text("기록되었습니다 (블록", timeout=60_000)
    assert signed == ["personal_sign", "eth_signTypedData_v4"]
    staff_action = card.locator(".proof-slot code").first.inner_text()
    with server.client() as c:
        outcome = c.get(f"/v1/actions/{staff_action}").json()
        assert outcome["status"] == "confirmed" and outcome["kind"] == "staff"
        wait_until(
            lambda: (
                next(
                    s["status"]
                    for s in c.get(f"/v1/plogging/sessions?resident={resident.address}").json()
                    if s["id"] == pending
                )
                == "accepted"
            ),
            30,
            "the mirror to show the session verified",
        )
    quiet(console)


def test_dashboard_signed_out_shows_totals_and_the_pipeline_and_fits_a_phone(
    server: Server, browser: Browser, console: list[str]
) -> None:
    with server.client() as client:
        submit_signed(client, Resident(), areaCode=AREA)  # at least one accepted session on the chain
        stats = wait_until(
            lambda: (s := client.get("/v1/stats").json())["plogging"]["sessions"] >= 1 and s, 30, "a session"
        )
    context = browser.new_context(viewport={"width": 320, "height": 700})
    page = listen(context.new_page(), console)
    try:
        opened(page, server, "/dashboard")
        expect(page.locator("#health")).to_have_text("정상", timeout=30_000)
        expect(page.locator("#sessions")).not_to_have_text("\u2013")  # the placeholder dash
        expect(page.locator("#refresh-error")).to_have_text("")
        shown = int(page.locator("#sessions").inner_text().replace(",", ""))
        assert shown >= stats["plogging"]["sessions"] >= 1
        expect(page.locator("#rows li").first).to_contain_text("블록")
        expect(page.locator("#charts-source")).to_contain_text("공개 기록")
        fits(page)
        assert axe(page) == []
        page.get_by_role("button", name="English").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("#health")).to_have_text("ok")
        assert axe(page) == []
        page.get_by_role("button", name="Large text").click()
        fits(page)
        page.get_by_label("Login").fill("nobody")
        page.get_by_label("Password", exact=True).fill("not the password")
        page.get_by_label("6-digit code from the authenticator app").fill("123456")
        page.get_by_role("button", name="Sign in", exact=True).click()
        expect(page.locator("#signin-status")).to_contain_text("Could not sign you in")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "dashboard-320-large.png"), full_page=True)
    finally:
        context.close()
    errors = [line for line in console if line.startswith(("page error", "request failed"))]
    assert not errors, errors  # the refused sign-in's 401 is the only console error expected


def test_reviewer_reviews_and_answers_feedback_and_the_answer_is_public(
    server: Server, page: Page, console: list[str], deployer: Deployer
) -> None:
    reviewer = Custodial(server)
    for role in ("reviewer", "moderator"):
        deployer.grant(role, reviewer.address)
    mirrored_past(server, {"blockNumber": deployer.w3.eth.block_number})
    opinion = "버스 정류장 옆에 분리수거함을 놓아 주세요."
    author = Resident()
    with server.client() as c:
        typed = prepare_feedback(c, author, content=opinion).json()["typedData"]
        action = c.post("/v1/actions", json={"typedData": typed, "signature": author.sign(typed)}).json()[
            "id"
        ]
        assert wait_final(c, action)["status"] == "confirmed"
        item = wait_until(
            lambda: next(
                (i["id"] for i in c.get(f"/v1/feedback?resident={author.address}").json()["items"]), None
            ),
            30,
            "the mirror to show the opinion",
        )

    opened(page, server, "/dashboard")
    sign_in(page, reviewer)
    expect(page.locator("#verification")).to_be_hidden()  # not a verifier
    card = page.locator(f'#fb-list li[data-id="{item}"]')
    expect(card).to_contain_text(opinion, timeout=15_000)
    card.get_by_role("button", name="검토 시작").click()
    expect(card.locator(":scope > p.status")).to_contain_text("기록되었습니다 (블록", timeout=60_000)
    answer = "다음 달에 분리수거함을 설치하겠습니다."
    card.get_by_label("답변 (직접 쓰기)").fill(answer)
    card.get_by_label("수용", exact=True).check()
    card.get_by_role("button", name="답변 보내기").click()
    expect(card.locator(":scope > p.status")).to_contain_text("기록되었습니다 (블록", timeout=60_000)
    with server.client() as c:
        body = wait_until(
            lambda: (b := c.get(f"/v1/feedback/{item}").json())["status"] == "answered" and b,
            30,
            "the mirror to show the answer",
        )
    assert body["answer"]["text"] == answer and body["accepted"] is True
    assert axe(page) == []
    page.set_viewport_size({"width": 320, "height": 800})
    fits(page)
    quiet(console)


@pytest.fixture(scope="module")
def shop(server: Server, deployer: Deployer) -> tuple[str, str]:
    """A registered partner and a key for it (issued through the library, as the CLI does)."""
    partner = Resident().address
    expires = int(time.time()) + 30 * 86_400
    deployer.send("CommunityRewards", "setPartner", partner, False, expires, b"\x11" * 32)
    with server.client() as c:
        wait_until(
            lambda: any(
                p["address"] == partner for p in c.get("/v1/partners?active=true&limit=200").json()["items"]
            ),
            30,
            "the mirror to list the partner",
        )
        chain_id = c.get("/v1/deployment").json()["chainId"]
    engine = make_engine(f"sqlite:///{server.data_dir / 'ledger.db'}")
    with session_scope(engine) as session:
        issued = issue_key(
            session=session,
            chain_id=chain_id,
            partner=partner,
            label="계산대 1",
            scopes=["redemptions:accept", "redemptions:read"],
            registered_until=expires,
            created_by="test",
            now=time.time(),
        )
        secret = issued.secret
    engine.dispose()
    return partner, secret


def redemption_request(server: Server, resident: Resident, partner: str, amount: int) -> str:
    """The resident's side, as the plaza does it: prepare, sign, and get the QR request text."""
    with server.client() as c:
        payload = {"partner": partner, "amount": amount, "offerHash": OFFER}
        prepared = c.post(
            "/v1/actions/prepare",
            json={"kind": "redemption", "resident": resident.address, "payload": payload},
        )
        assert prepared.status_code == 200, prepared.text
        typed = prepared.json()["typedData"]
        r = c.post("/v1/redemption-requests", json={"typedData": typed, "signature": resident.sign(typed)})
        assert r.status_code == 200, r.text
        request: str = r.json()["request"]
    assert request.startswith("esg:redeem:v1:")
    return request


@pytest.fixture
def partner_page(browser: Browser, server: Server, console: list[str]) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 320, "height": 800})
    yield listen(context.new_page(), console)
    context.close()


def test_partner_pastes_a_redemption_previews_accepts_and_sees_it_on_chain(
    server: Server, partner_page: Page, console: list[str], shop: tuple[str, str]
) -> None:
    partner, key = shop
    page = partner_page
    resident = Resident()
    with server.client() as c:
        earned = submit_signed(c, resident)[2]
        assert wait_final(c, earned)["status"] == "confirmed"
        balance = wait_until(
            lambda: int(c.get(f"/v1/residents/{resident.address}").json()["balance"]) or None,
            30,
            "the points",
        )
    request = redemption_request(server, resident, partner, 10)

    opened(page, server, "/partner")
    expect(page.locator("#scan")).to_be_hidden()
    fits(page)
    assert axe(page) == []
    page.get_by_label("가맹점 키", exact=True).fill(key)
    page.get_by_role("button", name="로그인", exact=True).click()
    expect(page.locator("#me-address")).to_contain_text(partner, timeout=15_000)
    assert page.evaluate("sessionStorage.getItem('esg.partner.key')") == key
    assert page.evaluate("Object.values(localStorage).some(v => v.includes('esgp_'))") is False

    page.get_by_role("button", name="카메라로 QR 읽기").click()  # no camera allowed here: paste instead
    expect(page.locator("#camera-status")).to_have_text(
        "카메라를 쓸 수 없습니다 (권한이 없거나 카메라가 없음). 아래 칸에 요청 글을 붙여 넣어 주세요."
    )
    expect(page.get_by_label("사용 요청 (esg:redeem:v1:…)")).to_be_focused()
    page.get_by_label("사용 요청 (esg:redeem:v1:…)").fill(request)
    page.get_by_role("button", name="미리 보기").click()
    expect(page.locator("#pv-verdict")).to_have_text("받아들일 수 있습니다.", timeout=15_000)
    expect(page.locator("#pv-amount")).to_have_text("10 포인트")
    expect(page.locator("#pv-balance")).to_have_text(f"{balance} 포인트")
    expect(page.locator("#pv-resident")).to_contain_text(resident.address)
    fits(page)  # the resident's address and the contract addresses wrap
    assert axe(page) == []
    page.get_by_role("button", name="받아들이기").click()
    expect(page.locator("#scan-status")).to_contain_text("기록되었습니다 (블록", timeout=60_000)
    action_id = page.locator("#scan-proof code").first.inner_text()

    with server.client() as c:
        wait_until(
            lambda: any(
                r["id"] == action_id and r["status"] == "confirmed"
                for r in c.get("/v1/partner/redemptions", headers={"X-Partner-Key": key}).json()["items"]
            ),
            30,
            "the mirror to show the redemption",
        )
    page.get_by_role("button", name="새로 고침").click()
    mine = page.locator(f'#redemptions li[data-id="{action_id}"]')
    expect(mine).to_contain_text("확정", timeout=15_000)
    expect(mine).to_contain_text("10 포인트")
    expect(page.locator("#st-confirmed")).to_have_text("1건 · 10 포인트")
    with server.client() as c:
        wait_until(
            lambda: int(c.get(f"/v1/residents/{resident.address}").json()["balance"]) == balance - 10,
            30,
            "the balance to drop",
        )

    # the same request again is refused in words; the record checks out on the chain itself
    page.get_by_role("button", name="미리 보기").click()
    expect(page.locator("#pv-verdict")).to_contain_text("이미 받아들인 요청입니다", timeout=15_000)
    expect(page.get_by_role("button", name="받아들이기")).to_be_hidden()
    mine.get_by_role("link", name="블록체인에서 확인").click()
    expect(page.locator("html")).to_have_attribute("data-ready", "true", timeout=30_000)
    expect(page.locator("#action")).to_have_value(action_id)
    expect(page.locator("#action-result")).to_contain_text("(Redeemed).", timeout=15_000)
    expect(page.locator("#action-result")).to_contain_text("시의 API도 같은 기록을 보여 줍니다.")
    expect(page.locator("#action-fields")).to_contain_text(resident.address)
    fits(page)
    page.get_by_role("button", name="English").click()
    expect(page.locator("#action-result")).to_contain_text("The city's API shows the same record.")
    assert axe(page) == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "partner-320.png"), full_page=True)
    page.get_by_role("button", name="Sign out (forget the key)").click()
    assert page.evaluate("sessionStorage.getItem('esg.partner.key')") is None
    expect(page.locator("#scan")).to_be_hidden()
    quiet(console)


def test_partner_page_checks_sessions_and_balances_on_chain_and_says_when_the_node_is_unreachable(
    server: Server, page: Page, console: list[str]
) -> None:
    resident = Resident()
    with server.client() as c:
        action_id = submit_signed(c, resident)[2]
        recorded = wait_final(c, action_id)
        wait_until(
            lambda: int(c.get(f"/v1/residents/{resident.address}").json()["balance"]) > 0, 30, "points"
        )
    opened(page, server, f"/partner?action={action_id}")
    expect(page.locator("#action-result")).to_have_text(
        f"블록 {recorded['blockNumber']}에 기록되어 있습니다 (PloggingRecorded). "
        "시의 API도 같은 기록을 보여 줍니다.",
        timeout=15_000,
    )
    expect(page.locator("#contracts")).to_contain_text("ParticipationToken")
    page.get_by_label("주민 주소").fill(resident.address)
    page.get_by_role("button", name="잔액을 블록체인에서 확인").click()
    expect(page.locator("#balance-result")).to_contain_text("시의 API도 같은 잔액을 보여 줍니다.")
    page.get_by_label("활동 id (주민 영수증의 EIP-712 다이제스트)").fill("0x" + "ab" * 32)
    page.get_by_role("button", name="블록체인에서 확인", exact=True).click()
    expect(page.locator("#action-result")).to_have_text("블록체인에 이 활동의 기록이 없습니다.")
    page.get_by_label("블록체인 노드 주소 (JSON-RPC)").fill("http://127.0.0.1:9")  # nothing listens there
    page.get_by_role("button", name="블록체인에서 확인", exact=True).click()
    expect(page.locator("#action-result")).to_have_text(
        "블록체인 노드(http://127.0.0.1:9)에 연결할 수 없습니다. "
        "주소를 확인하거나 다른 노드를 입력해 주세요.",
        timeout=30_000,
    )
    errors = [line for line in console if line.startswith("page error")]
    assert not errors, errors
