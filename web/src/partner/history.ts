// The partner's redemptions (newest first, as stacked cards) and its settlement totals.
import { describe, type Page } from "../api";
import { fmtInt, fmtTime, t } from "../i18n";
import { $, copyable, el, say } from "../ui";
import { partnerApi } from "./key";

interface Redemption {
  id: string;
  resident: string;
  amount: number;
  status: "queued" | "submitted" | "confirmed" | "failed";
  txHash: string | null;
  blockNumber: number | null;
  acceptedAt: number | null;
  error: string | null;
}

interface Totals {
  count: number;
  amount: number;
}

interface Settlement {
  confirmed: Totals;
  pending: Totals;
  failed: Totals;
}

let items: Redemption[] = [];
let settlement: Settlement | null = null;

function card(r: Redemption): HTMLElement {
  return el(
    "li",
    { "data-id": r.id },
    el(
      "p",
      {},
      el("span", { class: "badge", "data-status": r.status, text: t(`partnerDesk.history.status.${r.status}`) }),
      " ",
      el("strong", { text: t("partnerDesk.scan.points", { amount: fmtInt(r.amount) }) }),
      r.acceptedAt ? ` · ${t("partnerDesk.history.accepted", { time: fmtTime(Math.floor(r.acceptedAt)) })}` : "",
    ),
    el("p", {}, el("span", { class: "label", text: t("partnerDesk.scan.resident") }), " ", copyable(r.resident, t("partnerDesk.scan.resident"))),
    el("p", {}, el("span", { class: "label", text: t("common.actionId") }), " ", copyable(r.id, t("common.actionId"))),
    r.txHash
      ? el("p", {}, el("span", { class: "label", text: t("common.tx") }), " ", copyable(r.txHash, t("common.tx")), r.blockNumber != null ? ` · ${t("common.block", { block: r.blockNumber })}` : "")
      : null,
    el("p", {}, el("a", { href: `?action=${encodeURIComponent(r.id)}#verify-h`, "data-verify": r.id, text: t("partnerDesk.history.verify") })),
  );
}

function render(): void {
  const s = settlement;
  for (const k of ["confirmed", "pending", "failed"] as const)
    $(`#st-${k}`).textContent = s ? t("partnerDesk.history.totals", { count: fmtInt(s[k].count), amount: fmtInt(s[k].amount) }) : "–";
  $("#redemptions").replaceChildren(...(items.length ? items.map(card) : [el("li", { class: "empty", text: t("partnerDesk.history.empty") })]));
}

export async function refreshHistory(): Promise<void> {
  const status = $("#history-status");
  try {
    const [page, totals] = await Promise.all([
      partnerApi<Page<Redemption>>("/v1/partner/redemptions?limit=50"),
      partnerApi<Settlement>("/v1/partner/settlement"),
    ]);
    items = page.items;
    settlement = totals;
    say(status, "");
    render();
  } catch (e) {
    say(status, () => describe(e), "bad");
  }
}

export function initHistory(): void {
  $("#history-refresh").addEventListener("click", () => void refreshHistory());
}

export function rerender(): void {
  render();
}
