// The mayor's feedback box: post an opinion, read the items with their official answers, support
// others' items, and see each item's progress toward the threshold that obliges an answer.
import { api, describe, type FeedbackItem, type Page } from "../api";
import { fmtInt, t } from "../i18n";
import { $, el, say } from "../ui";
import { signer } from "../wallet";
import { sendAndFollow } from "./run";

const CATEGORIES = ["environment", "transport", "safety", "welfare", "culture", "administration"];
let items: FeedbackItem[] = [];
const supportedHere = new Set<number>();
// Each item's status line and proof outlive a re-render of the list (which follows the mirror).
const lines = new Map<number, { status: HTMLElement; proof: HTMLElement }>();

function linesOf(id: number): { status: HTMLElement; proof: HTMLElement } {
  let l = lines.get(id);
  if (!l) {
    l = { status: el("p", { class: "status", role: "status" }), proof: el("div") };
    lines.set(id, l);
  }
  return l;
}

function contentOf(item: FeedbackItem): string {
  if (item.contentState === "shown" && item.content) return item.content;
  return t(`feedback.${item.contentState === "erased" ? "erasedContent" : item.contentState === "hidden" ? "hiddenContent" : "missingContent"}`);
}

function card(item: FeedbackItem): HTMLElement {
  const me = signer()?.address.toLowerCase();
  const own = me !== undefined && item.resident.toLowerCase() === me;
  const heading = `${item.category ? t(`categories.${item.category}`, { defaultValue: item.category }) : ""} · #${item.id}`;
  const li = el(
    "li",
    { class: "feedback-item", "data-id": String(item.id) },
    el("p", { class: "row spread" }, el("strong", { text: heading }), el("span", { class: "badge", "data-status": item.status, text: t(`feedbackStatus.${item.status}`) })),
    el("p", { class: "content", text: contentOf(item) }),
  );
  if (item.threshold > 0) {
    const text = t("feedback.progress", { count: fmtInt(item.supports), threshold: fmtInt(item.threshold) });
    li.append(
      el("progress", { max: String(item.threshold), value: String(Math.min(item.supports, item.threshold)), "aria-label": text }),
      el("p", { class: "supports", text: item.thresholdReached ? `${text} · ${t("feedback.reached")}` : text }),
    );
  } else {
    li.append(el("p", { class: "supports", text: t("feedback.supports", { count: fmtInt(item.supports) }) }));
  }
  if (item.answer) {
    li.append(
      el(
        "div",
        { class: "answer" },
        el("p", {}, el("strong", { text: t("feedback.answer") }), ` (${t(item.answer.accepted ? "feedback.accepted" : "feedback.declined")})`),
        item.answer.text ? el("p", { text: item.answer.text }) : null,
      ),
    );
  }
  const { status, proof } = linesOf(item.id);
  if (own) {
    li.append(el("p", { class: "muted", text: t("feedback.own") }));
  } else {
    const done = supportedHere.has(item.id);
    const button = el("button", { type: "button", "aria-label": `${t("feedback.support")}: #${item.id}` }, t(done ? "feedback.supported" : "feedback.support"));
    if (done) button.disabled = true;
    button.addEventListener("click", async () => {
      const action = await sendAndFollow("support", { itemId: item.id }, status, proof, button);
      if (action?.status === "confirmed") {
        supportedHere.add(item.id);
        button.disabled = true;
        button.textContent = t("feedback.supported");
        void waitFor((list) => (list.find((x) => x.id === item.id)?.supports ?? 0) > item.supports);
      }
    });
    li.append(button);
  }
  li.append(status, proof);
  return li;
}

function render(): void {
  const list = $("#feedback-list");
  list.replaceChildren(...items.map(card));
  if (!items.length) list.append(el("li", { class: "muted", text: t("feedback.none") }));
}

async function load(): Promise<FeedbackItem[]> {
  const page = await api<Page<FeedbackItem>>("/v1/feedback?limit=20");
  // Official answers are on each item's own page; fetch them for the answered ones.
  return Promise.all(
    page.items.map(async (item) =>
      item.status === "answered" || item.status === "closed" ? api<FeedbackItem>(`/v1/feedback/${item.id}?supportsLimit=1`) : item,
    ),
  );
}

async function refresh(): Promise<void> {
  const status = $("#feedback-list-status");
  say(status, () => t("common.loading"));
  try {
    items = await load();
    render();
    say(status, "");
  } catch (e) {
    say(status, () => describe(e), "bad");
  }
}

/** The mirror follows the chain a moment later: poll the list until it shows what was just recorded. */
async function waitFor(ready: (list: FeedbackItem[]) => boolean, tries = 30): Promise<void> {
  for (let i = 0; i < tries; i++) {
    try {
      const list = await load();
      if (ready(list) || i === tries - 1) {
        items = list;
        render();
        return;
      }
    } catch {
      /* keep trying; the list's own refresh reports errors */
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function post(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const status = $("#feedback-status");
  const content = $<HTMLTextAreaElement>("#feedback-content").value.trim();
  if (!content) {
    say(status, () => t("feedback.empty"), "bad");
    $("#feedback-content").focus();
    return;
  }
  const category = $<HTMLSelectElement>("#feedback-category").value;
  const button = $<HTMLButtonElement>("#feedback-form button[type=submit]");
  const action = await sendAndFollow("feedback", { category, content }, status, $("#feedback-proof"), button);
  if (action?.status === "confirmed") {
    $<HTMLTextAreaElement>("#feedback-content").value = "";
    say(status, () => `${t("status.confirmed", { block: action.blockNumber })} ${t("feedback.appearing")}`, "ok");
    await waitFor((list) => list.some((x) => x.digest?.toLowerCase() === action.id.toLowerCase()));
  }
}

function fillCategories(): void {
  const select = $<HTMLSelectElement>("#feedback-category");
  const chosen = select.value || CATEGORIES[0];
  select.replaceChildren(...CATEGORIES.map((c) => el("option", { value: c, text: t(`categories.${c}`) })));
  select.value = chosen;
}

export function init(): void {
  fillCategories();
  $<HTMLFormElement>("#feedback-form").addEventListener("submit", (e) => void post(e));
  $("#feedback-refresh").addEventListener("click", () => void refresh());
}

export function open(): void {
  void refresh();
}

export function rerender(): void {
  fillCategories();
  if (!$("#panel-feedback").hidden) render();
}
