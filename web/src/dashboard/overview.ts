// Programme totals, the pipeline's health and the recent sessions: public reads, refreshed every few
// seconds. Each part fills itself, so one slow or failing read leaves only its own figures stale.
import { api, describe, type Session } from "../api";
import { fmtDec, fmtInt, fmtTime, t } from "../i18n";
import { $, copyable, el, say } from "../ui";

interface Stats {
  residents: number;
  plogging: { sessions: number; trashGrams: number; distanceMeters: number };
  pointsMinted: number | string;
  actions: Record<string, number>;
}

interface Indexer {
  head: number | null;
  indexed: number | null;
  lag: number | null;
}

interface RecentSession extends Session {
  resident: string;
  areaCode: number;
}

const EVERY_MS = 5000;
let refreshing = false;
let last: { stats?: Stats; health?: string; indexer?: Indexer; recent?: RecentSession[] } = {};

async function health(): Promise<string> {
  // /healthz answers 503 with the same body when something is down: read it either way
  let response: Response;
  try {
    response = await fetch("/healthz", { signal: AbortSignal.timeout(10_000) });
  } catch {
    throw new Error(t("errors.network"));
  }
  const body = (await response.json().catch(() => ({}))) as { status?: string };
  return body.status ?? "down";
}

function render(): void {
  const { stats, indexer, recent } = last;
  if (stats) {
    $("#residents").textContent = fmtInt(stats.residents);
    $("#sessions").textContent = fmtInt(stats.plogging.sessions);
    $("#trash").textContent = fmtDec(stats.plogging.trashGrams / 1000);
    $("#distance").textContent = fmtDec(stats.plogging.distanceMeters / 1000);
    $("#minted").textContent = fmtInt(stats.pointsMinted);
    const counts = Object.entries(stats.actions).map(([k, v]) => `${t(`actionStatus.${k}`, { defaultValue: k })} ${fmtInt(v)}`);
    $("#actions").textContent = counts.join(" · ") || t("common.none");
  }
  if (last.health) {
    const h = $("#health");
    h.textContent = t(`dashboard.overview.healthValue.${last.health}`, { defaultValue: last.health });
    h.dataset.tone = last.health === "ok" ? "ok" : "bad";
  }
  if (indexer) {
    $("#head").textContent = indexer.head == null ? "–" : fmtInt(indexer.head);
    $("#indexed").textContent = indexer.indexed == null ? "–" : fmtInt(indexer.indexed);
    $("#lag").textContent = indexer.lag == null ? "–" : fmtInt(indexer.lag);
  }
  if (recent) {
    const rows = recent.map((s) =>
      el(
        "li",
        { "data-id": s.id },
        el(
          "p",
          {},
          el("span", { class: "badge", "data-status": s.status, text: t(`sessionStatus.${s.status}`) }),
          ` ${fmtTime(s.startedAt)} · ${fmtDec(s.distanceMeters / 1000)} km · ${fmtInt(s.trashGrams)} g · ${fmtInt(s.reward)} ${t("common.points")}`,
        ),
        el("p", {}, el("span", { class: "label", text: t("common.tx") }), " ", copyable(s.txHash, t("common.tx")), ` · ${t("common.block", { block: s.blockNumber })}`),
      ),
    );
    $("#rows").replaceChildren(...(rows.length ? rows : [el("li", { class: "empty", text: t("dashboard.overview.recentEmpty") })]));
  }
}

async function refresh(): Promise<void> {
  const parts: Array<[string, () => Promise<void>]> = [
    ["/v1/stats", async () => void (last.stats = await api<Stats>("/v1/stats"))],
    ["/healthz", async () => void (last.health = await health())],
    ["/v1/indexer/status", async () => void (last.indexer = await api<Indexer>("/v1/indexer/status"))],
    ["/v1/plogging/sessions", async () => void (last.recent = await api<RecentSession[]>("/v1/plogging/sessions?limit=25"))],
  ];
  const results = await Promise.allSettled(parts.map(([, part]) => part()));
  render();
  const failed = results.flatMap((r, i) => (r.status === "rejected" ? [`${parts[i][0]} (${r.reason instanceof Error && !("code" in r.reason) ? r.reason.message : describe(r.reason)})`] : []));
  say($("#refresh-error"), failed.length ? () => t("dashboard.overview.partial", { what: failed.join("; ") }) : "", failed.length ? "bad" : "info");
}

async function tick(): Promise<void> {
  if (refreshing) return; // never stack refreshes behind a slow answer
  refreshing = true;
  try {
    await refresh();
  } finally {
    refreshing = false;
  }
}

export function initOverview(): void {
  void tick();
  setInterval(() => void tick(), EVERY_MS);
}

export function rerender(): void {
  render();
}
