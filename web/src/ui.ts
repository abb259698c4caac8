// Small DOM helpers shared by the panels: elements, copy buttons, status lines, an action's proof.
import type { Action } from "./api";
import { onLangChange, t } from "./i18n";

export function $<T extends HTMLElement = HTMLElement>(selector: string, root: ParentNode = document): T {
  const el = root.querySelector<T>(selector);
  if (!el) throw new Error(`missing ${selector}`);
  return el;
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: Array<Node | string | null | undefined>
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

/** A long value (address, id, hash) that wraps, with a button that copies it. */
export function copyable(value: string, label: string): HTMLElement {
  const button = el("button", { type: "button", class: "copy", "aria-label": `${t("common.copy")}: ${label}` }, t("common.copy"));
  const note = el("span", { class: "copy-note", role: "status" });
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(value);
      note.textContent = t("common.copied");
    } catch {
      note.textContent = t("common.copyFailed");
    }
  });
  return el("span", { class: "copyable" }, el("code", { class: "hex", text: value }), button, note);
}

export type Tone = "info" | "ok" | "bad";

// What code wrote, kept as functions of the language so that a language switch rewrites it too.
const said = new Map<HTMLElement, () => string>();
const proofs = new Map<HTMLElement, { action: Action; link: boolean }>();

/** Writes a status line; pass a function (() => t(...)) so that it follows the language switch. */
export function say(target: HTMLElement, text: string | (() => string), tone: Tone = "info"): void {
  const render = typeof text === "string" ? () => text : text;
  said.set(target, render);
  target.textContent = render();
  target.dataset.tone = tone;
}

/** Shows an action's status, id and proof in `container`, kept in the current language. `link`: the
 * partner page's on-chain check, for the residents' kinds (a staff call's id is not in their events). */
export function showProof(container: HTMLElement, action: Action | null, link = true): void {
  if (action) proofs.set(container, { action, link });
  else proofs.delete(container);
  container.replaceChildren(...(action ? [actionProof(action, link)] : []));
}

onLangChange(() => {
  for (const [el, render] of said) if (el.isConnected) el.textContent = render();
  for (const [el, { action, link }] of proofs) if (el.isConnected) el.replaceChildren(actionProof(action, link));
});

/** What a resident needs to know about one action: its status, its id, and where its proof is. */
export function actionProof(action: Action, link = true): HTMLElement {
  const box = el("div", { class: "proof" });
  box.append(
    el("p", {}, el("span", { class: "badge", "data-status": action.status, text: t(`actionStatus.${action.status}`) })),
    el("p", {}, el("span", { class: "label", text: t("common.actionId") }), " ", copyable(action.id, t("common.actionId"))),
  );
  if (action.txHash) {
    box.append(
      el(
        "p",
        {},
        el("span", { class: "label", text: t("common.tx") }),
        " ",
        copyable(action.txHash, t("common.tx")),
        action.blockNumber != null ? ` · ${t("common.block", { block: action.blockNumber })}` : "",
      ),
    );
    if (link) box.append(el("p", {}, el("a", { href: `/partner?action=${encodeURIComponent(action.id)}`, text: t("common.checkOnChain") })));
  }
  return box;
}

export const reducedMotion = (): boolean => window.matchMedia("(prefers-reduced-motion: reduce)").matches;
