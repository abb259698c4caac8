// My record: balance and totals from the mirror, each action sent from this device with its status and
// id (the id a partner asks for), and the plogging sessions with their outcome. An address the plaza has
// never seen says so, which is not the same as a record that is empty.
import { isAddress } from "ethers";
import { sentFrom } from "../actions";
import { api, describe, type Action, type Resident, type Session } from "../api";
import { fmtDec, fmtInt, fmtTime, t } from "../i18n";
import { $, actionProof, copyable, el, say } from "../ui";
import { signer, storedAddress, onWalletChange } from "../wallet";

let shown: { resident: Resident; sessions: Session[] } | null = null;

function mine(): string | null {
  return signer()?.address ?? storedAddress();
}

function isUnknown(r: Resident, sessions: Session[]): boolean {
  const counted = Object.values(r.actions ?? {}).reduce((a, b) => a + b, 0);
  return (
    BigInt(r.balance ?? 0) === 0n &&
    r.plogging.sessions === 0 &&
    sessions.length === 0 &&
    r.feedback.submitted === 0 &&
    r.feedback.supported === 0 &&
    BigInt(r.redeemed ?? 0) === 0n &&
    BigInt(r.donated ?? 0) === 0n &&
    counted === 0
  );
}

function renderRecord(): void {
  const view = $("#record-view");
  if (!shown) {
    view.hidden = true;
    return;
  }
  const { resident: r, sessions } = shown;
  if (isUnknown(r, sessions)) {
    view.hidden = true;
    say($("#record-status"), () => t("record.unknown"));
    return;
  }
  $("#rec-balance").textContent = `${fmtInt(r.balance)} ${t("common.points")}`;
  $("#rec-sessions").textContent = fmtInt(r.plogging.sessions);
  $("#rec-trash").textContent = fmtDec(r.plogging.trashGrams / 1000);
  $("#rec-distance").textContent = fmtDec(r.plogging.distanceMeters / 1000);
  $("#rec-feedback").textContent = fmtInt(r.feedback.submitted);
  $("#rec-supported").textContent = fmtInt(r.feedback.supported);
  $("#rec-redeemed").textContent = fmtInt(r.redeemed);
  $("#rec-donated").textContent = fmtInt(r.donated);
  const list = $("#record-sessions");
  list.replaceChildren(
    ...sessions.map((s) =>
      el(
        "li",
        {},
        el("p", { class: "row spread" }, el("strong", { text: t("record.when", { when: fmtTime(s.startedAt) }) }), el("span", { class: "badge", "data-status": s.status, text: t(`sessionStatus.${s.status}`) })),
        el("p", { text: `${fmtDec(s.distanceMeters / 1000)} km · ${fmtDec(s.trashGrams / 1000)} kg · ${fmtInt(s.reward)} ${t("common.points")}` }),
        el("p", {}, el("span", { class: "label", text: t("common.tx") }), " ", copyable(s.txHash, t("common.tx")), ` · ${t("common.block", { block: s.blockNumber })}`),
      ),
    ),
  );
  if (!sessions.length) list.append(el("li", { class: "muted", text: t("record.empty") }));
  view.hidden = false;
}

async function lookup(address: string): Promise<void> {
  const status = $("#record-status");
  if (!isAddress(address)) {
    shown = null;
    renderRecord();
    say(status, () => t("record.badAddress"), "bad");
    return;
  }
  say(status, () => t("common.loading"));
  try {
    const [resident, sessions] = await Promise.all([
      api<Resident>(`/v1/residents/${address}`),
      api<Session[]>(`/v1/plogging/sessions?resident=${address}&limit=20`),
    ]);
    shown = { resident, sessions };
    say(status, "");
    renderRecord();
  } catch (e) {
    shown = null;
    renderRecord();
    say(status, () => describe(e), "bad");
  }
}

async function renderActions(): Promise<void> {
  const list = $("#record-actions");
  const address = mine();
  const sent = address ? sentFrom(address) : [];
  if (!sent.length) {
    list.replaceChildren(el("li", { class: "muted", text: t("record.noActions") }));
    return;
  }
  const rows = await Promise.all(
    sent.slice(0, 20).map(async (s) => {
      const head = el("p", {}, el("strong", { text: t(`kinds.${s.kind}`, { defaultValue: s.kind }) }), ` · ${fmtTime(s.at)}`);
      try {
        return el("li", { "data-action": s.id }, head, actionProof(await api<Action>(`/v1/actions/${s.id}`)));
      } catch (e) {
        return el("li", { "data-action": s.id }, head, copyable(s.id, t("common.actionId")), el("p", { class: "status", "data-tone": "bad", text: describe(e) }));
      }
    }),
  );
  list.replaceChildren(...rows);
}

export function init(): void {
  $<HTMLFormElement>("#record-form").addEventListener("submit", (event) => {
    event.preventDefault();
    void lookup($<HTMLInputElement>("#record-address").value.trim());
  });
  $("#record-mine").addEventListener("click", () => {
    const address = mine();
    if (!address) return say($("#record-status"), () => t("wallet.needed"), "bad");
    $<HTMLInputElement>("#record-address").value = address;
    void lookup(address);
  });
  onWalletChange(() => {
    if (!$("#panel-record").hidden) open();
  });
}

export function open(): void {
  const input = $<HTMLInputElement>("#record-address");
  const address = mine();
  if (!input.value && address) input.value = address;
  if (input.value) void lookup(input.value.trim());
  void renderActions();
}

export function rerender(): void {
  if ($("#panel-record").hidden) return;
  renderRecord();
  void renderActions();
}
