// The feedback queue (review, answer with a template or text, moderate, close; answer several at once
// with a template) and the list of answers due. Reviewers answer and close, moderators hide and show.
import { api, describe, type FeedbackItem, type Page } from "../api";
import { lang, t } from "../i18n";
import { $, el, say } from "../ui";
import { can, explain, queued, settle, staffCall, type BulkAnswer } from "./staff";

interface Template {
  id: number;
  name: string;
  language: string;
  text: string;
  accepted: boolean;
}

interface Overdue extends FeedbackItem {
  dueAt: number;
  daysLeft: number;
  overdue: boolean;
}

const MOD_REASONS = ["1", "2", "3", "4", "0"];
let items: FeedbackItem[] = [];
let templates: Template[] = [];
let overdue: Overdue[] = [];

function templateOptions(select: HTMLSelectElement, none: string): void {
  select.replaceChildren(el("option", { value: "", text: none }), ...templates.map((tp) => el("option", { value: String(tp.id), text: `${tp.name} (${tp.language})` })));
}

function answerForm(item: FeedbackItem, status: HTMLElement, proof: HTMLElement): HTMLElement {
  const key = `fb-${item.id}`;
  const template = el("select", { id: `${key}-template` });
  templateOptions(template, t("dashboard.feedback.noTemplate"));
  const text = el("textarea", { id: `${key}-text`, rows: "3", maxlength: "4000" });
  const yes = el("input", { type: "radio", name: `${key}-verdict`, value: "true", id: `${key}-yes` });
  const no = el("input", { type: "radio", name: `${key}-verdict`, value: "false", id: `${key}-no` });
  yes.checked = true;
  template.addEventListener("change", () => {
    const chosen = templates.find((tp) => String(tp.id) === template.value);
    if (chosen) {
      text.value = chosen.text;
      (chosen.accepted ? yes : no).checked = true;
    }
  });
  const send = el("button", { type: "submit", class: "primary", text: t("dashboard.feedback.answer") });
  const form = el(
    "form",
    { class: "answer-form" },
    el("label", { for: template.id, text: t("dashboard.feedback.template") }),
    template,
    el("label", { for: text.id, text: t("dashboard.feedback.answerText") }),
    text,
    el(
      "fieldset",
      {},
      el("legend", { text: t("dashboard.feedback.verdict") }),
      el("label", { class: "check", for: yes.id }, yes, t("dashboard.feedback.accepted")),
      el("label", { class: "check", for: no.id }, no, t("dashboard.feedback.declined")),
    ),
    send,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const accepted = yes.checked;
    const chosen = templates.find((tp) => String(tp.id) === template.value);
    const own = text.value.trim();
    if (!own && !chosen) return say(status, () => t("dashboard.feedback.needText"), "bad");
    // a template's text unchanged goes as the template; edited, as the reviewer's own words
    const body = chosen && own === chosen.text ? { templateId: chosen.id, accepted } : { text: own, accepted, language: lang() };
    await staffCall("POST", `/v1/staff/feedback/${item.id}/answer`, body, status, [send], proof);
  });
  return form;
}

function card(item: FeedbackItem): HTMLElement {
  const status = el("p", { class: "status", role: "status" });
  const proof = el("div", { class: "proof-slot" });
  const supports =
    item.threshold > 0 ? t("dashboard.feedback.supports", { supports: item.supports, threshold: item.threshold }) : t("dashboard.feedback.noThreshold", { supports: item.supports });
  const li = el(
    "li",
    { "data-id": String(item.id) },
    el(
      "p",
      {},
      el("strong", { text: `#${item.id}` }),
      ` · ${t(`categories.${item.category}`, { defaultValue: item.category ?? "" })} `,
      el("span", { class: "badge", "data-status": item.status, text: t(`feedbackStatus.${item.status}`) }),
      item.thresholdReached ? el("span", { class: "badge warn", text: t("dashboard.feedback.required") }) : null,
      ` · ${supports}`,
    ),
    item.content ? el("p", { class: "content", text: item.content }) : el("p", { class: "muted", text: t("dashboard.feedback.hiddenText") }),
  );
  const answered = (item as FeedbackItem & { answerText?: string | null }).answerText ?? item.answer?.text;
  if (answered) li.append(el("p", { class: "answer", text: answered }));
  const open = item.status === "submitted" || item.status === "under_review";
  if (can("reviewer") && open) {
    const pick = el("input", { type: "checkbox", class: "pick", value: String(item.id), "aria-label": t("dashboard.feedback.selectLabel", { id: item.id }) });
    li.append(el("label", { class: "check" }, pick, el("span", { text: t("dashboard.queue.select") })));
  }
  const row = el("div", { class: "row" });
  if (can("reviewer") && item.status === "submitted") {
    const review = el("button", { type: "button", text: t("dashboard.feedback.review") });
    review.addEventListener("click", () => void staffCall("POST", `/v1/staff/feedback/${item.id}/review`, undefined, status, [review], proof));
    row.append(review);
  }
  if (can("reviewer") && item.status === "answered") {
    const close = el("button", { type: "button", text: t("dashboard.feedback.close") });
    close.addEventListener("click", () => void staffCall("POST", `/v1/staff/feedback/${item.id}/close`, undefined, status, [close], proof));
    row.append(close);
  }
  if (row.childElementCount) li.append(row);
  if (can("reviewer") && open) li.append(answerForm(item, status, proof));
  if (can("moderator")) {
    const reasonId = `fb-${item.id}-mod`;
    const reason = el("select", { id: reasonId });
    for (const code of MOD_REASONS) reason.append(el("option", { value: code, text: `${code} · ${t(`dashboard.reasons.moderation.${code}`)}` }));
    const toggle = el("button", { type: "button", text: t(item.hidden ? "dashboard.feedback.unhide" : "dashboard.feedback.moderate") });
    toggle.addEventListener(
      "click",
      () => void staffCall("POST", `/v1/staff/feedback/${item.id}/moderate`, { hidden: !item.hidden, reasonCode: Number(reason.value) }, status, [toggle], proof),
    );
    li.append(el("label", { for: reasonId, text: t("dashboard.feedback.modReason") }), el("div", { class: "row" }, reason, toggle));
  }
  li.append(status, proof);
  return li;
}

function overdueCard(item: Overdue): HTMLElement {
  const days = item.daysLeft < 0 ? t("dashboard.feedback.daysOver", { days: -item.daysLeft }) : t("dashboard.feedback.daysLeft", { days: item.daysLeft });
  return el(
    "li",
    { "data-id": String(item.id), class: item.overdue ? "overdue" : "" },
    el("p", {}, el("strong", { text: `#${item.id}` }), " ", el("span", { class: item.overdue ? "badge bad" : "badge warn", text: days }), ` · ${t("dashboard.feedback.supports", { supports: item.supports, threshold: item.threshold })}`),
    item.content ? el("p", { class: "content", text: item.content }) : null,
  );
}

function render(): void {
  templateOptions($<HTMLSelectElement>("#fb-bulk-template"), t("dashboard.feedback.noTemplate"));
  $("#fb-bulk").hidden = $("#fb-bulk-template").hidden = !can("reviewer");
  $("label[for=fb-bulk-template]").hidden = !can("reviewer");
  $("#fb-list").replaceChildren(...(items.length ? items.map(card) : [el("li", { class: "empty", text: t("dashboard.feedback.empty") })]));
  $("#overdue").replaceChildren(...(overdue.length ? overdue.map(overdueCard) : [el("li", { class: "empty", text: t("dashboard.feedback.overdueEmpty") })]));
}

export async function refreshFeedback(): Promise<void> {
  const status = $("#fb-status-line");
  const filter = $<HTMLSelectElement>("#fb-status").value;
  try {
    const [page, due, tps] = await Promise.all([
      api<Page<FeedbackItem>>(`/v1/staff/feedback/queue?limit=50${filter ? `&status=${filter}` : ""}`),
      api<Page<Overdue>>("/v1/staff/feedback/overdue?limit=50"),
      can("reviewer") ? api<Page<Template>>("/v1/staff/feedback/templates?limit=200") : Promise.resolve({ items: [], total: 0 }),
    ]);
    items = page.items;
    overdue = due.items;
    templates = tps.items;
    say(status, "");
    render();
  } catch (e) {
    say(status, () => describe(e), "bad");
  }
}

async function bulkAnswer(): Promise<void> {
  const status = $("#fb-status-line");
  const templateId = Number($<HTMLSelectElement>("#fb-bulk-template").value);
  const picked = [...document.querySelectorAll<HTMLInputElement>("#fb-list input.pick:checked")].map((p) => Number(p.value));
  if (!templateId || !picked.length) return say(status, () => t("dashboard.feedback.bulkNeedTemplate"), "bad");
  const button = $<HTMLButtonElement>("#fb-bulk");
  button.disabled = true;
  say(status, () => t("dashboard.call.preparing"));
  try {
    const answer = await api<BulkAnswer>("/v1/staff/feedback/answers", { method: "POST", body: { itemIds: picked, templateId } });
    let ok = 0;
    for (const r of answer.results) {
      const li = document.querySelector<HTMLElement>(`#fb-list li[data-id="${r.key}"]`);
      const line = li?.querySelector<HTMLElement>(":scope > p.status") ?? status;
      if (!r.result) {
        say(line, r.error?.message ?? r.error?.code ?? "", "bad");
        continue;
      }
      const action = await settle(await queued(r.result, line), line);
      if (action.status === "confirmed") ok += 1;
    }
    say(status, () => t("dashboard.queue.bulkDone", { ok, bad: answer.results.length - ok }), ok === answer.results.length ? "ok" : "bad");
  } catch (e) {
    say(status, () => explain(e), "bad");
  } finally {
    button.disabled = false;
  }
}

export function initFeedback(): void {
  $("#fb-refresh").addEventListener("click", () => void refreshFeedback());
  $("#fb-status").addEventListener("change", () => void refreshFeedback());
  $("#fb-bulk").addEventListener("click", () => void bulkAnswer());
}

export function rerender(): void {
  render();
}
