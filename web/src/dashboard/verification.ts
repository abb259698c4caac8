// The verification queue: pending plogging sessions with their evidence hash, flags and the resident's
// history; verify or reject one (with a reason), or verify the selected ones at once.
import { api, describe, type Action, type Page } from "../api";
import { fmtDec, fmtInt, fmtTime, t } from "../i18n";
import { $, copyable, el, say, showProof } from "../ui";
import { explain, queued, settle, staffCall, type BulkAnswer } from "./staff";

interface Queued {
  digest: string;
  resident: string;
  distanceMeters: number;
  durationSeconds: number;
  trashGrams: number;
  areaCode: number;
  startedAt: number;
  evidenceHash: string;
  reward: number;
  flags: string[];
  history: { pending: number; accepted: number; rejected: number; revoked: number };
}

const REASONS = ["1", "2", "3", "4", "0"];
let items: Queued[] = [];
// sessions decided from this page, until the next refresh drops them from the queue
const decided = new Map<string, Action>();
let total = 0;

function line(label: string, value: string): HTMLElement {
  return el("p", {}, el("span", { class: "label", text: label }), " ", copyable(value, label));
}

function card(s: Queued): HTMLElement {
  const short = `${s.digest.slice(0, 10)}…`;
  const status = el("p", { class: "status", role: "status" });
  const proof = el("div", { class: "proof-slot" });
  const select = el("input", { type: "checkbox", class: "pick", value: s.digest, "aria-label": t("dashboard.queue.selectLabel", { digest: short }) });
  const reasonId = `reason-${s.digest.slice(2, 12)}`;
  const reason = el("select", { id: reasonId });
  for (const code of REASONS) reason.append(el("option", { value: code, text: `${code} · ${t(`dashboard.reasons.plogging.${code}`)}` }));
  const verify = el("button", { type: "button", class: "primary", text: t("dashboard.queue.verify") });
  const reject = el("button", { type: "button", text: t("dashboard.queue.reject") });
  const buttons = [verify, reject];
  const done = (action: Action | null) => {
    if (action?.status !== "confirmed") return;
    decided.set(s.digest, action);
    for (const b of [...buttons, select, reason]) b.setAttribute("disabled", "");
  };
  verify.addEventListener("click", async () => {
    done(await staffCall("POST", `/v1/staff/plogging/sessions/${s.digest}/verify`, undefined, status, buttons, proof));
  });
  reject.addEventListener("click", async () => {
    const body = { reasonCode: Number(reason.value) };
    done(await staffCall("POST", `/v1/staff/plogging/sessions/${s.digest}/reject`, body, status, buttons, proof));
  });
  const earlier = decided.get(s.digest);
  if (earlier) {
    done(earlier);
    say(status, () => t("dashboard.call.confirmed", { block: earlier.blockNumber }), "ok");
    showProof(proof, earlier, false);
  }
  const flags = s.flags.length
    ? s.flags.map((f) => el("span", { class: "badge warn", text: t(`dashboard.queue.flags.${f}`, { defaultValue: f }) }))
    : [el("span", { class: "muted", text: t("dashboard.queue.noFlags") })];
  return el(
    "li",
    { "data-digest": s.digest },
    el("label", { class: "check" }, select, el("span", { text: t("dashboard.queue.select") })),
    el(
      "p",
      { class: "big-line" },
      t("dashboard.queue.figures", {
        km: fmtDec(s.distanceMeters / 1000),
        minutes: fmtInt(Math.round(s.durationSeconds / 60)),
        grams: fmtInt(s.trashGrams),
        area: s.areaCode,
      }),
    ),
    el("p", {}, `${t("dashboard.queue.started", { time: fmtTime(s.startedAt) })} · ${t("dashboard.queue.reward", { points: fmtInt(s.reward) })}`),
    el("p", { class: "flags" }, ...flags),
    el("p", { class: "muted" }, t("dashboard.queue.history", s.history)),
    line(t("dashboard.queue.resident"), s.resident),
    line(t("dashboard.queue.digest"), s.digest),
    line(t("dashboard.queue.evidence"), s.evidenceHash),
    el("div", { class: "row" }, verify),
    el("label", { for: reasonId, text: t("dashboard.queue.reason") }),
    el("div", { class: "row" }, reason, reject),
    status,
    proof,
  );
}

function render(): void {
  $("#queue-count").textContent = t("dashboard.queue.count", { count: total });
  const list = $("#queue");
  list.replaceChildren(...(items.length ? items.map(card) : [el("li", { class: "empty", text: t("dashboard.queue.empty") })]));
}

export async function refreshQueue(): Promise<void> {
  const status = $("#queue-status");
  const flagged = $<HTMLInputElement>("#queue-flagged").checked ? "&flagged=true" : "";
  try {
    const page = await api<Page<Queued>>(`/v1/staff/plogging/queue?limit=50${flagged}`);
    items = page.items;
    total = page.total;
    decided.clear();
    say(status, "");
    render();
  } catch (e) {
    say(status, () => describe(e), "bad");
  }
}

async function bulk(): Promise<void> {
  const status = $("#queue-status");
  const picked = [...document.querySelectorAll<HTMLInputElement>("#queue input.pick:checked:not(:disabled)")];
  if (!picked.length) return say(status, () => t("dashboard.queue.bulkNone"), "bad");
  const button = $<HTMLButtonElement>("#queue-bulk");
  button.disabled = true;
  say(status, () => t("dashboard.call.preparing"));
  try {
    const answer = await api<BulkAnswer>("/v1/staff/plogging/verify", { method: "POST", body: { digests: picked.map((p) => p.value) } });
    let ok = 0;
    // a wallet member's requests carry consecutive nonces: sign and submit them in order
    for (const r of answer.results) {
      const li = document.querySelector<HTMLElement>(`#queue li[data-digest="${r.key}"]`);
      const line = li?.querySelector<HTMLElement>("p.status") ?? status;
      if (!r.result) {
        say(line, r.error?.message ?? r.error?.code ?? "", "bad");
        continue;
      }
      const action = await settle(await queued(r.result, line), line, li?.querySelector<HTMLElement>(".proof-slot") ?? undefined);
      if (action.status === "confirmed") {
        ok += 1;
        decided.set(r.key, action);
        li?.querySelectorAll("button, input, select").forEach((x) => x.setAttribute("disabled", ""));
      }
    }
    say(status, () => t("dashboard.queue.bulkDone", { ok, bad: answer.results.length - ok }), ok === answer.results.length ? "ok" : "bad");
  } catch (e) {
    say(status, () => explain(e), "bad");
  } finally {
    button.disabled = false;
  }
}

export function initVerification(): void {
  $("#queue-refresh").addEventListener("click", () => void refreshQueue());
  $("#queue-flagged").addEventListener("change", () => void refreshQueue());
  $("#queue-bulk").addEventListener("click", () => void bulk());
}

export function rerender(): void {
  render();
}
