"""The plaza in a real headless Chromium (Debian's), driven by Playwright (the workspaces:
test_workspaces.py; the fixtures: conftest.py)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from ..support import Resident, Server, wait_until
from .helpers import SHOTS, axe, listen, quiet, with_wallet

pytestmark = pytest.mark.browser


def plaza(page: Page, server: Server, lang: str = "ko") -> Page:
    page.goto(server.url + "/plaza")
    expect(page.locator("html")).to_have_attribute("data-ready", "true", timeout=30_000)
    expect(page.locator("html")).to_have_attribute("lang", lang)
    return page


def tab_to(page: Page, target: Locator, presses: int = 80) -> None:
    """Presses Tab until `target` has focus: proof that the keyboard alone reaches it."""
    for _ in range(presses):
        if target.evaluate("el => el === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {target}")


def type_into(page: Page, target: Locator, text: str) -> None:
    tab_to(page, target)
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def create_key(page: Page, passphrase: str = "correct horse battery") -> str:
    """An in-browser key (ethers), made with the keyboard alone; returns its address."""
    type_into(page, page.locator("#create-passphrase"), passphrase)
    type_into(page, page.locator("#create-passphrase-2"), passphrase)
    page.keyboard.press("Enter")
    expect(page.locator("#wallet-open")).to_be_visible(timeout=60_000)
    return page.locator("#wallet-address code").inner_text()


def test_resident_walks_to_the_trail_and_logs_a_session_by_keyboard(
    server: Server, page: Page, console: list[str]
) -> None:
    plaza(page, server)
    address = create_key(page)
    tab_to(page, page.locator("#square"))
    page.keyboard.down("ArrowLeft")  # held: the avatar walks west until it steps onto the trail
    expect(page.locator("#panel-trail")).to_be_visible(timeout=30_000)
    page.keyboard.up("ArrowLeft")
    expect(page.locator("#trail-h")).to_be_focused()

    tab_to(page, page.locator("#trail-simulate"))
    page.keyboard.press("Space")
    tab_to(page, page.get_by_role("button", name="시작하기"))
    page.keyboard.press("Enter")
    expect(page.locator("#trail-source")).to_have_text("모의 경로로 기록하는 중입니다 (GPS를 쓰지 않음).")
    tab_to(page, page.get_by_role("button", name="쓰레기 하나 더하기"))
    for _ in range(3):
        page.keyboard.press("Enter")
    expect(page.locator("#litter-count")).to_have_text("3개")
    tab_to(page, page.get_by_role("button", name="끝내기"))
    page.keyboard.press("Enter")
    expect(page.get_by_label("쓰레기 무게 (g)")).to_have_value("90")  # 3 pieces at about 30 g
    type_into(page, page.get_by_label("거리 (m)"), "1200")
    type_into(page, page.get_by_label("시간 (분)"), "20")
    type_into(page, page.get_by_label("쓰레기 무게 (g)"), "450")
    tab_to(page, page.get_by_role("button", name="서명하고 보내기"))
    page.keyboard.press("Enter")
    expect(page.locator("#trail-status")).to_contain_text("기록되었습니다 (블록", timeout=60_000)

    action_id = page.locator("#trail-proof code").first.inner_text()
    action = server.client().get(f"/v1/actions/{action_id}").json()
    assert action["status"] == "confirmed" and action["kind"] == "plogging"
    expect(page.locator("#trail-proof")).to_contain_text(action["txHash"])

    tab_to(page, page.get_by_role("button", name="나의 기록"))
    page.keyboard.press("Enter")
    expect(page.locator("#record-address")).to_have_value(address)
    expect(page.locator("#rec-sessions")).to_have_text("1", timeout=15_000)
    expect(page.locator("#rec-balance")).to_have_text(f"{1200 * 10 // 1000 + 450 * 5 // 100} 포인트")
    mine = page.locator(f'#record-actions li[data-action="{action_id}"]')
    expect(mine).to_contain_text("기록됨")
    expect(mine).to_contain_text(action_id)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "plaza.png"), full_page=True)
    quiet(console)


def test_plaza_is_accessible_in_korean_and_english_and_remembers_the_language(
    server: Server, page: Page, console: list[str]
) -> None:
    plaza(page, server)
    assert axe(page) == []
    page.get_by_role("button", name="시장님 의견함").click()
    expect(page.locator("#feedback-list-status")).to_have_text("")
    assert axe(page) == []

    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Mayor's feedback box")).to_be_visible()
    expect(page.get_by_role("button", name="English")).to_have_attribute("aria-pressed", "true")
    assert axe(page) == []
    page.get_by_role("button", name="Large text").click()
    expect(page.locator("html")).to_have_class("large")
    assert axe(page) == []

    page.reload()
    plaza(page, server, lang="en")
    expect(page.get_by_role("heading", name="My wallet")).to_be_visible()
    expect(page.locator("html")).to_have_class("large")
    page.get_by_role("button", name="Plogging trail").click()
    assert axe(page) == []
    page.get_by_role("button", name="한국어").click()
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    expect(page.get_by_role("heading", name="줍깅 산책로")).to_be_visible()
    quiet(console)


def test_plaza_fits_a_phone_and_tells_unknown_from_unreachable(server: Server, browser: Browser) -> None:
    recent = server.client().get("/v1/plogging/sessions?limit=1").json()[0]
    context = browser.new_context(viewport={"width": 320, "height": 700})
    page = context.new_page()
    try:
        plaza(page, server)

        def fits() -> None:
            assert page.evaluate("document.documentElement.scrollWidth") <= 320

        fits()
        for place in ("줍깅 산책로", "시장님 의견함", "가맹점", "기부함·캠페인 게시판"):
            page.get_by_role("button", name=place, exact=True).click()
            fits()
        page.get_by_role("button", name="나의 기록", exact=True).click()
        lookup = page.get_by_label("주소", exact=True)
        lookup.fill(recent["resident"])
        page.get_by_role("button", name="기록 보기").click()
        expect(page.locator("#record-sessions li").first).to_contain_text(recent["txHash"], timeout=15_000)
        fits()
        page.get_by_role("button", name="큰 글씨").click()
        expect(page.locator("html")).to_have_class("large")
        fits()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "plaza-320-large.png"), full_page=True)
        lookup.fill("0x" + "12" * 20)  # a well-formed address the plaza never saw
        page.get_by_role("button", name="기록 보기").click()
        expect(page.locator("#record-status")).to_contain_text("이 주소에는 아직 광장 기록이 없습니다")
        expect(page.locator("#record-view")).to_be_hidden()
        lookup.fill("0x1234")
        page.get_by_role("button", name="기록 보기").click()
        expect(page.locator("#record-status")).to_have_text(
            "주소는 0x로 시작하고 16진수 40자리가 이어져야 합니다."
        )
        context.set_offline(True)  # the browser loses the network: a plain message, not "Failed to fetch"
        lookup.fill(recent["resident"])
        page.get_by_role("button", name="기록 보기").click()
        expect(page.locator("#record-status")).to_contain_text("서버에 연결할 수 없습니다")
        fits()
    finally:
        context.close()


def test_a_tap_on_the_square_walks_there_at_once_with_reduced_motion(
    server: Server, browser: Browser
) -> None:
    context = browser.new_context(reduced_motion="reduce", has_touch=True)
    page = context.new_page()
    try:
        plaza(page, server)
        box = page.locator("#square canvas").bounding_box()
        assert box is not None
        # the feedback box stands at the top centre of the 800 x 480 square
        page.locator("#square canvas").tap(
            position={"x": box["width"] * 400 / 800, "y": box["height"] * 75 / 480}
        )
        expect(page.locator("#panel-feedback")).to_be_visible()
        expect(page.locator("#feedback-h")).to_be_focused()
        expect(page.locator("#panel-trail")).to_be_hidden()
    finally:
        context.close()


def test_resident_posts_feedback_and_another_supports_it(
    server: Server, browser: Browser, console: list[str]
) -> None:
    author = listen(browser.new_context().new_page(), console)
    plaza(author, server)
    create_key(author)
    author.get_by_role("button", name="시장님 의견함").click()
    opinion = "놀이터 옆 쓰레기통이 자주 넘칩니다. 수거를 늘려 주세요."
    author.get_by_label("분야").select_option("environment")
    author.get_by_label("의견", exact=True).fill(opinion)
    author.get_by_role("button", name="서명하고 의견 보내기").click()
    expect(author.locator("#feedback-status")).to_contain_text("기록되었습니다", timeout=60_000)
    item = author.locator("#feedback-list li", has_text=opinion)
    expect(item).to_contain_text("내 의견", timeout=30_000)
    item_id = int(item.get_attribute("data-id") or 0)

    supporter = listen(browser.new_context().new_page(), console)
    plaza(supporter, server)
    create_key(supporter)
    supporter.get_by_role("button", name="시장님 의견함").click()
    theirs = supporter.locator(f'#feedback-list li[data-id="{item_id}"]')
    expect(theirs).to_contain_text(opinion, timeout=15_000)
    theirs.get_by_role("button", name=f"동의하기: #{item_id}").click()
    expect(theirs.locator("p.status")).to_contain_text("기록되었습니다", timeout=60_000)
    expect(supporter.locator(f'#feedback-list li[data-id="{item_id}"] .supports')).to_contain_text(
        "1", timeout=30_000
    )
    assert server.client().get(f"/v1/feedback/{item_id}").json()["supports"] == 1
    author.context.close()
    supporter.context.close()
    quiet(console)


def test_resident_with_a_browser_wallet_logs_a_session(
    server: Server, page: Page, console: list[str]
) -> None:
    resident = Resident()
    with_wallet(page, resident)
    plaza(page, server)
    page.get_by_role("button", name="브라우저 지갑 쓰기").click()
    expect(page.locator("#wallet-address")).to_contain_text(resident.address)
    page.get_by_role("button", name="줍깅 산책로").click()
    page.get_by_label("GPS 없이 모의 경로로 기록하기").check()
    page.get_by_role("button", name="시작하기").click()
    page.get_by_role("button", name="끝내기").click()
    page.get_by_label("거리 (m)").fill("4200")
    page.get_by_label("시간 (분)").fill("1")  # too short for the contract's bounds: refused, in words
    page.get_by_label("쓰레기 무게 (g)").fill("1200")
    page.get_by_role("button", name="서명하고 보내기").click()
    expect(page.locator("#trail-status")).to_have_text(
        "기록되지 않았습니다: 활동 시간은 5분에서 240분 사이여야 합니다. 시간을 고쳐 다시 보내 주세요.",
        timeout=60_000,
    )
    page.get_by_label("시간 (분)").fill("30")
    page.get_by_role("button", name="서명하고 보내기").click()
    expect(page.locator("#trail-status")).to_contain_text("기록되었습니다", timeout=60_000)
    wait_until(
        lambda: server.client().get(f"/v1/residents/{resident.address}").json()["plogging"]["sessions"] == 1,
        30,
        "the mirror to show the session",
    )
    quiet(console)
