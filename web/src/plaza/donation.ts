// The donation box and the campaign board: give points to a registered cause; see each campaign's
// collective goal and progress.
import { api, describe, type Page } from "../api";
import { fmtInt, t } from "../i18n";
import { $, el, say } from "../ui";
import { sendAndFollow } from "./run";

interface Cause {
  id: number;
  name: string | null;
  active: boolean;
}

interface Campaign {
  id: number;
  status: "active" | "achieved" | "missed" | "cancelled";
  name: string | null;
  goal: number | string;
  progress: number | string;
  progressPercent: number | string;
  bonusRoot: string | null;
}

let causes: Cause[] = [];
let campaigns: Campaign[] = [];

function render(): void {
  const select = $<HTMLSelectElement>("#donation-cause");
  const chosen = select.value;
  select.replaceChildren(...causes.map((c) => el("option", { value: String(c.id), text: c.name ?? `#${c.id}` })));
  if (chosen) select.value = chosen;
  $<HTMLButtonElement>("#donation-form button[type=submit]").disabled = !causes.length;
  if (!causes.length) say($("#donation-status"), () => t("donation.noCauses"));
  const list = $("#campaign-list");
  list.replaceChildren(
    ...campaigns.map((c) => {
      const percent = Math.min(100, Number(c.progressPercent));
      const text = t("donation.progress", { percent: fmtInt(Number(c.progressPercent)) });
      return el(
        "li",
        {},
        el("p", { class: "row spread" }, el("strong", { text: c.name ?? `#${c.id}` }), el("span", { class: "badge", "data-status": c.status, text: t(`campaignStatus.${c.status}`) })),
        el("progress", { max: "100", value: String(percent), "aria-label": `${c.name ?? `#${c.id}`}: ${text}` }),
        el("p", { text: `${text} (${fmtInt(c.progress)} / ${fmtInt(c.goal)})` }),
        c.status === "achieved" && c.bonusRoot ? claimButton(c) : null,
      );
    }),
  );
  if (!campaigns.length) list.append(el("li", { class: "muted", text: t("donation.noCampaigns") }));
}

/** A bonus from an achieved campaign's published tree: the API finds the resident's amount and proof. */
function claimButton(c: Campaign): HTMLElement {
  const status = el("p", { class: "status", role: "status" });
  const proof = el("div");
  const button = el("button", { type: "button", "aria-label": `${t("donation.claim")}: ${c.name ?? `#${c.id}`}` }, t("donation.claim"));
  button.addEventListener("click", () => void sendAndFollow("claim", { campaignId: c.id }, status, proof, button));
  return el("div", {}, button, status, proof);
}

async function load(): Promise<void> {
  try {
    const [c, k] = await Promise.all([
      api<Page<Cause>>("/v1/causes?active=true&limit=200"),
      api<Page<Campaign>>("/v1/campaigns?limit=20"),
    ]);
    causes = c.items;
    campaigns = k.items;
    say($("#donation-status"), "");
    render();
  } catch (e) {
    say($("#donation-status"), () => describe(e), "bad");
  }
}

async function give(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const status = $("#donation-status");
  const causeId = Number($<HTMLSelectElement>("#donation-cause").value);
  const amount = Number($<HTMLInputElement>("#donation-amount").value);
  if (!causes.length || !Number.isInteger(amount) || amount < 1) return say(status, () => t("donation.invalid"), "bad");
  await sendAndFollow("donation", { causeId, amount }, status, $("#donation-proof"), $<HTMLButtonElement>("#donation-form button[type=submit]"));
}

export function init(): void {
  $<HTMLFormElement>("#donation-form").addEventListener("submit", (e) => void give(e));
}

export function open(): void {
  void load();
}

export function rerender(): void {
  if (!$("#panel-donation").hidden) render();
}
