// What the workspaces (/dashboard, /partner) share with the plaza's header: the font, the language switch
// and large text, both remembered on the device; `<html lang>` follows the language.
import "@fontsource/noto-sans-kr/400.css";
import "@fontsource/noto-sans-kr/700.css";
import "./style.css";
import { initI18n, lang, onLangChange, setLang, type Lang } from "./i18n";
import { $ } from "./ui";

const LARGE = "esg.largeText";

function showLang(): void {
  for (const b of document.querySelectorAll<HTMLButtonElement>("[data-lang]"))
    b.setAttribute("aria-pressed", String(b.dataset.lang === lang()));
}

function largeText(on: boolean): void {
  document.documentElement.classList.toggle("large", on);
  $("#large-text").setAttribute("aria-pressed", String(on));
  try {
    localStorage.setItem(LARGE, on ? "1" : "0");
  } catch {
    /* the choice lasts for this page only */
  }
}

function storedLarge(): boolean {
  try {
    return localStorage.getItem(LARGE) === "1";
  } catch {
    return false;
  }
}

/** Loads the catalogue and wires the header's buttons; `rerender` runs after each language change. */
export async function initPage(rerender: () => void): Promise<void> {
  await initI18n();
  showLang();
  largeText(storedLarge());
  for (const b of document.querySelectorAll<HTMLButtonElement>("[data-lang]"))
    b.addEventListener("click", () => void setLang(b.dataset.lang as Lang));
  $("#large-text").addEventListener("click", () => largeText(!document.documentElement.classList.contains("large")));
  onLangChange(() => {
    showLang();
    rerender();
  });
}

/** Marks the page usable (the browser tests wait for it). */
export function ready(): void {
  document.documentElement.dataset.ready = "true";
}
