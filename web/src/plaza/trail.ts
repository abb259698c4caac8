// The plogging trail: start (GPS where the browser allows it, else a simulated track), count the litter
// with big +/- buttons, finish, check the figures, sign and send, and follow the action until confirmed.
import { fmtInt, t } from "../i18n";
import { $, say } from "../ui";
import { sendAndFollow } from "./run";

const GRAMS_PER_PIECE = 30;
const WALKING_PACE = 1.3; // metres a second on the simulated track

interface Point {
  lat: number;
  lon: number;
  at: number;
}

let startedAt = 0;
let distance = 0;
let litter = 0;
let points: Point[] = [];
let watch: number | null = null;
let ticker: number | null = null;
let source: "gps" | "simulated" | "fallback" = "simulated";

function haversine(a: Point, b: Point): number {
  const r = 6_371_000;
  const rad = (d: number) => (d * Math.PI) / 180;
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * r * Math.asin(Math.sqrt(h));
}

function elapsed(): number {
  return Math.max(0, Math.floor(Date.now() / 1000) - startedAt);
}

function showSource(): void {
  const key = source === "gps" ? "trail.gps" : source === "fallback" ? "trail.gpsUnavailable" : "trail.simulated";
  say($("#trail-source"), () => t(key));
}

function tick(): void {
  if (!startedAt) return;
  const s = elapsed();
  if (source !== "gps") distance = Math.round(s * WALKING_PACE);
  $("#trail-distance").textContent = `${fmtInt(distance)} m`;
  $("#trail-elapsed").textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function simulate(why: "simulated" | "fallback"): void {
  if (watch !== null) navigator.geolocation.clearWatch(watch);
  watch = null;
  source = why;
  showSource();
}

function start(): void {
  startedAt = Math.floor(Date.now() / 1000);
  distance = 0;
  litter = 0;
  points = [];
  $("#litter-count").textContent = "0";
  $("#trail-idle").hidden = true;
  $("#trail-running").hidden = false;
  $("#trail-again").hidden = true;
  $("#trail-proof").replaceChildren();
  say($("#trail-status"), "");
  if ($<HTMLInputElement>("#trail-simulate").checked || !("geolocation" in navigator)) {
    simulate("simulated");
  } else {
    source = "gps";
    showSource();
    watch = navigator.geolocation.watchPosition(
      (p) => {
        const point = { lat: p.coords.latitude, lon: p.coords.longitude, at: Math.floor(p.timestamp / 1000) };
        const last = points.at(-1);
        if (last) distance += Math.round(haversine(last, point));
        points.push(point);
      },
      () => simulate("fallback"),
      { enableHighAccuracy: true, timeout: 15_000, maximumAge: 5_000 },
    );
  }
  tick();
  ticker = window.setInterval(tick, 1000);
  $("#trail-finish").focus();
}

function finish(): void {
  tick();
  if (watch !== null) navigator.geolocation.clearWatch(watch);
  if (ticker !== null) clearInterval(ticker);
  watch = ticker = null;
  $("#trail-running").hidden = true;
  $("#trail-review").hidden = false;
  $<HTMLInputElement>("#distanceMeters").value = String(distance);
  $<HTMLInputElement>("#durationMinutes").value = String(Math.max(1, Math.round(elapsed() / 60)));
  $<HTMLInputElement>("#trashGrams").value = String(litter * GRAMS_PER_PIECE);
  $<HTMLInputElement>("#distanceMeters").focus();
}

async function evidence(payload: Record<string, unknown>): Promise<string> {
  // The session's fingerprint: its figures and its track, hashed (the track itself stays on the device).
  const bytes = new TextEncoder().encode(JSON.stringify({ payload, points, source, litter }));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return "0x" + [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function submit(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const status = $("#trail-status");
  const num = (id: string) => Number($<HTMLInputElement>(id).value);
  const distanceMeters = num("#distanceMeters");
  const minutes = num("#durationMinutes");
  const trashGrams = num("#trashGrams");
  const areaCode = num("#areaCode");
  const whole = (n: number) => Number.isInteger(n) && n >= 0;
  if (![distanceMeters, minutes, trashGrams, areaCode].every(whole) || minutes < 1) {
    say(status, () => t("trail.invalid"), "bad");
    return;
  }
  const durationSeconds = minutes * 60;
  const base = {
    distanceMeters,
    durationSeconds,
    trashGrams,
    areaCode,
    // The session must have ended before it is recorded: it ends now, at the latest.
    startedAt: Math.min(startedAt || Infinity, Math.floor(Date.now() / 1000) - durationSeconds - 1),
  };
  const action = await sendAndFollow(
    "plogging",
    async () => ({ ...base, evidenceHash: await evidence(base) }),
    status,
    $("#trail-proof"),
    $<HTMLButtonElement>("#trail-send"),
  );
  if (action?.status === "confirmed") {
    $("#trail-review").hidden = true;
    $("#trail-again").hidden = false;
  }
}

function again(): void {
  $("#trail-again").hidden = true;
  $("#trail-review").hidden = true;
  $("#trail-idle").hidden = false;
  $("#trail-proof").replaceChildren();
  say($("#trail-status"), "");
  $("#trail-start").focus();
}

function count(by: number): void {
  litter = Math.max(0, litter + by);
  $("#litter-count").textContent = t("trail.litterCount", { count: litter });
}

export function init(): void {
  $("#trail-start").addEventListener("click", start);
  $("#trail-finish").addEventListener("click", finish);
  $("#litter-less").addEventListener("click", () => count(-1));
  $("#litter-more").addEventListener("click", () => count(1));
  $<HTMLFormElement>("#trail-review").addEventListener("submit", (e) => void submit(e));
  $("#trail-again").addEventListener("click", again);
  rerender();
}

export function open(): void {}

export function rerender(): void {
  $("#trash-hint").textContent = t("trail.trashHint", { grams: GRAMS_PER_PIECE });
  $("#litter-count").textContent = t("trail.litterCount", { count: litter });
  tick();
}
