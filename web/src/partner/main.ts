// The partner desk: sign in with the partner's key, take redemptions (camera or paste), see them and
// the settlement; and, with or without a key, check any action or balance on the chain itself.
// ?action=<id> (the plaza's "check it on-chain" link) fills in the id and checks it at once.
import { ApiError, describe } from "../api";
import { applyTranslations, fmtTime, t } from "../i18n";
import { initPage, ready } from "../page";
import { $, copyable, say } from "../ui";
import * as history from "./history";
import { hasKey, keepKey, partnerApi, type PartnerMe } from "./key";
import * as scan from "./scan";
import * as verify from "./verify";

let me: PartnerMe | null = null;

function render(): void {
  $("#key-form").hidden = !!me;
  $("#key-open").hidden = !me;
  $("#scan").hidden = $("#history").hidden = !me;
  if (!me) return;
  $("#me-name").textContent = me.name ?? me.address;
  $("#me-address").replaceChildren(copyable(me.address, t("partnerDesk.key.address")));
  $("#me-key").textContent = `${me.key.label} (${me.key.id})`;
  $("#me-scopes").textContent = me.key.scopes.join(", ");
  say($("#me-expires"), () => (me!.active ? t("partnerDesk.key.expires", { time: fmtTime(me!.expiresAt) }) : t("partnerDesk.key.inactive")), me.active ? "info" : "bad");
}

async function signIn(focus: boolean): Promise<void> {
  const status = $("#key-status");
  say(status, () => t("partnerDesk.key.checking"));
  try {
    me = await partnerApi<PartnerMe>("/v1/partner/me");
    say(status, "");
    render();
    await history.refreshHistory();
    if (focus) $("#scan-h").focus();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) keepKey(null);
    me = null;
    render();
    say(status, () => describe(e), "bad");
  }
}

async function main(): Promise<void> {
  await initPage(() => {
    render();
    scan.rerender();
    history.rerender();
    verify.rerender();
  });
  scan.initScan(() => void history.refreshHistory());
  history.initHistory();
  verify.initVerify();
  $<HTMLFormElement>("#key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $<HTMLInputElement>("#partner-key");
    keepKey(input.value.trim());
    input.value = "";
    void signIn(true);
  });
  $("#key-forget").addEventListener("click", () => {
    keepKey(null);
    me = null;
    scan.reset();
    render();
    say($("#key-status"), () => t("partnerDesk.key.signedOut"), "ok");
    $("#partner-key").focus();
  });
  render();
  if (hasKey()) await signIn(false);
  applyTranslations(document);
  const action = new URLSearchParams(location.search).get("action");
  if (action) {
    $<HTMLInputElement>("#action").value = action;
    void verify.verifyAction();
  }
  ready();
}

void main();
