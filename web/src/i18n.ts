// i18next with the two catalogues; Korean by default, the resident's choice kept in localStorage.
// Markup names its strings with data-i18n (text), data-i18n-label (aria-label) and data-i18n-alt (alt).
import i18next from "i18next";
import en from "./locales/en";
import ko from "./locales/ko";

export type Lang = "ko" | "en";
export const LANGS: Lang[] = ["ko", "en"];
const STORE = "esg.lang";
const listeners: Array<() => void> = [];

function stored(): Lang {
  try {
    const v = localStorage.getItem(STORE);
    return v === "en" || v === "ko" ? v : "ko";
  } catch {
    return "ko";
  }
}

export async function initI18n(): Promise<void> {
  await i18next.init({
    lng: stored(),
    fallbackLng: "ko",
    supportedLngs: LANGS,
    resources: { ko: { translation: ko }, en: { translation: en } },
    interpolation: { escapeValue: false }, // every string goes to textContent, never innerHTML
    returnNull: false,
  });
  applyTranslations(document);
}

export function lang(): Lang {
  return (i18next.language as Lang) ?? "ko";
}

export function t(key: string, options?: Record<string, unknown>): string {
  return i18next.t(key, options ?? {}) as string;
}

export async function setLang(next: Lang): Promise<void> {
  try {
    localStorage.setItem(STORE, next);
  } catch {
    /* private mode: the choice lasts for this page only */
  }
  await i18next.changeLanguage(next);
  applyTranslations(document);
  for (const listener of listeners) listener();
}

/** Called after every language change, for text that code wrote (statuses, lists, the canvas). */
export function onLangChange(listener: () => void): void {
  listeners.push(listener);
}

export function applyTranslations(root: ParentNode): void {
  document.documentElement.lang = lang();
  document.title = t(document.documentElement.dataset.title ?? "app.title"); // each page names its own title
  for (const el of root.querySelectorAll<HTMLElement>("[data-i18n]")) el.textContent = t(el.dataset.i18n!);
  for (const el of root.querySelectorAll<HTMLElement>("[data-i18n-label]"))
    el.setAttribute("aria-label", t(el.dataset.i18nLabel!));
  for (const el of root.querySelectorAll<HTMLElement>("[data-i18n-alt]")) el.setAttribute("alt", t(el.dataset.i18nAlt!));
}

export function fmtInt(n: number | string | bigint): string {
  return Number(n).toLocaleString(lang() === "ko" ? "ko-KR" : "en-GB");
}

export function fmtDec(n: number): string {
  return n.toLocaleString(lang() === "ko" ? "ko-KR" : "en-GB", { maximumFractionDigits: 1 });
}

export function fmtTime(seconds: number): string {
  return new Date(seconds * 1000).toLocaleString(lang() === "ko" ? "ko-KR" : "en-GB");
}
