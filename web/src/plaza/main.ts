// The plaza page: language, wallet, the square and the panels it opens.
import "@fontsource/noto-sans-kr/400.css";
import "@fontsource/noto-sans-kr/700.css";
import "../style.css";
import { applyTranslations, initI18n, lang, onLangChange, setLang, t, type Lang } from "../i18n";
import { reducedMotion, $ } from "../ui";
import { initWalletPanel } from "./walletPanel";
import { startSquare, type PlaceId, type Square } from "./square";
import * as trail from "./trail";
import * as feedback from "./feedback";
import * as record from "./record";
import * as shop from "./shop";
import * as donation from "./donation";

const PLACES: PlaceId[] = ["trail", "feedback", "shop", "donation", "record"];
const panels: Record<PlaceId, { init(): void; open(): void; rerender(): void }> = { trail, feedback, shop, donation, record };
const LARGE = "esg.largeText";
let square: Square | null = null;

function open(id: PlaceId, focus: boolean): void {
  for (const place of PLACES) $(`#panel-${place}`).hidden = place !== id;
  for (const b of document.querySelectorAll<HTMLButtonElement>("[data-place]"))
    b.setAttribute("aria-current", b.dataset.place === id ? "true" : "false");
  panels[id].open();
  square?.stop();
  if (focus) $(`#panel-${id} h2`).focus();
}

function close(): void {
  for (const place of PLACES) $(`#panel-${place}`).hidden = true;
  $("#square").focus();
}

function labels(): Record<PlaceId, string> {
  return Object.fromEntries(PLACES.map((p) => [p, t(`places.${p}`)])) as Record<PlaceId, string>;
}

function showLang(): void {
  for (const b of document.querySelectorAll<HTMLButtonElement>("[data-lang]"))
    b.setAttribute("aria-pressed", String(b.dataset.lang === lang()));
  square?.setLabels(labels(), t("square.you"));
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

async function main(): Promise<void> {
  await initI18n();
  showLang();
  largeText(localStorage.getItem(LARGE) === "1");
  for (const b of document.querySelectorAll<HTMLButtonElement>("[data-lang]"))
    b.addEventListener("click", () => void setLang(b.dataset.lang as Lang));
  $("#large-text").addEventListener("click", () => largeText(!document.documentElement.classList.contains("large")));
  onLangChange(() => {
    showLang();
    for (const p of PLACES) panels[p].rerender();
  });

  initWalletPanel();
  for (const p of PLACES) panels[p].init();
  for (const b of document.querySelectorAll<HTMLButtonElement>("[data-place]"))
    b.addEventListener("click", () => open(b.dataset.place as PlaceId, true));
  for (const b of document.querySelectorAll<HTMLButtonElement>(".panel .back")) b.addEventListener("click", close);

  // Canvas text needs its glyphs: load the Korean and Latin subsets the labels use before drawing them.
  const family = "Noto Sans KR";
  const sample = [...Object.values(labels()), t("square.you"), "ABCabc 나의기록광장"].join("");
  await Promise.allSettled([document.fonts.load(`22px "${family}"`, sample), document.fonts.load(`700 22px "${family}"`, sample)]);
  square = await startSquare($("#square"), (id) => open(id, true), { instant: reducedMotion(), fontFamily: `"${family}", sans-serif` });
  showLang();
  applyTranslations(document);
  document.documentElement.dataset.ready = "true";
}

void main();
