// Two charts (Chart.js): participation over time and kilograms by area. An auditor or admin reads the
// audit metrics (every accepted session, by month and by area); anyone else the latest public sessions,
// grouped here by day (Korean time) and by area. Each chart has its numbers as a list beside it.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartConfiguration,
} from "chart.js";
import { api, describe } from "../api";
import { fmtDec, fmtInt, lang, t } from "../i18n";
import { $, el, reducedMotion, say } from "../ui";
import { can } from "./staff";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Tooltip);

interface Series {
  labels: string[];
  values: number[];
}

interface MetricGroup {
  group: { month?: string; area?: number };
  figures: Record<string, { value: number | null }>;
}

interface PublicSession {
  startedAt: number;
  areaCode: number;
  trashGrams: number;
  status: string;
}

const PUBLIC_LIMIT = 500;
const charts = new Map<string, Chart>();
let data: { over: Series; areas: Series; audit: boolean; count: number } | null = null;

const day = (seconds: number) => new Date((seconds + 9 * 3600) * 1000).toISOString().slice(0, 10); // KST

async function fromAudit(): Promise<{ over: Series; areas: Series }> {
  const [months, areas] = await Promise.all([
    api<{ groups: MetricGroup[] }>("/v1/staff/audit/metrics?by=month"),
    api<{ groups: MetricGroup[] }>("/v1/staff/audit/metrics?by=area"),
  ]);
  const value = (g: MetricGroup, k: string) => Number(g.figures[k]?.value ?? 0);
  return {
    over: { labels: months.groups.map((g) => g.group.month ?? ""), values: months.groups.map((g) => value(g, "participation.sessions")) },
    areas: {
      labels: areas.groups.map((g) => String(g.group.area ?? "")),
      values: areas.groups.map((g) => value(g, "waste.kilograms_collected")),
    },
  };
}

async function fromPublic(): Promise<{ over: Series; areas: Series; count: number }> {
  const sessions = (await api<PublicSession[]>(`/v1/plogging/sessions?limit=${PUBLIC_LIMIT}`)).filter((s) => s.status === "accepted");
  const byDay = new Map<string, number>();
  const byArea = new Map<number, number>();
  for (const s of sessions) {
    byDay.set(day(s.startedAt), (byDay.get(day(s.startedAt)) ?? 0) + 1);
    byArea.set(s.areaCode, (byArea.get(s.areaCode) ?? 0) + s.trashGrams / 1000);
  }
  const days = [...byDay.keys()].sort();
  const areas = [...byArea.keys()].sort((a, b) => a - b);
  return {
    over: { labels: days, values: days.map((d) => byDay.get(d)!) },
    areas: { labels: areas.map(String), values: areas.map((a) => byArea.get(a)!) },
    count: sessions.length,
  };
}

function draw(
  id: string,
  type: "line" | "bar",
  title: string,
  series: Series,
  label: (l: string) => string,
  value: (v: number) => string,
  precision?: number,
): void {
  const canvas = $<HTMLCanvasElement>(`#${id}`);
  const labels = series.labels.map(label);
  const points = labels.map((l, i) => `${l} ${value(series.values[i])}`).join(", ");
  canvas.setAttribute("aria-label", t("dashboard.charts.summary", { title, points: points || t("dashboard.charts.empty") }));
  $(`#${id}-data`).replaceChildren(
    ...(labels.length ? labels.map((l, i) => el("li", { text: `${l}: ${value(series.values[i])}` })) : [el("li", { text: t("dashboard.charts.empty") })]),
  );
  const config: ChartConfiguration<"line" | "bar"> = {
    type,
    data: { labels, datasets: [{ label: title, data: series.values, backgroundColor: "#0b6b3a", borderColor: "#0b6b3a", pointRadius: 4 }] },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: reducedMotion() ? false : undefined,
      locale: lang() === "ko" ? "ko-KR" : "en-GB",
      scales: { y: { beginAtZero: true, ticks: { color: "#13201a", precision } }, x: { ticks: { color: "#13201a" } } },
      plugins: { tooltip: { enabled: true } },
    },
  };
  charts.get(id)?.destroy();
  charts.set(id, new Chart(canvas, config));
}

function render(): void {
  if (!data) return;
  $("#charts-source").textContent = data.audit ? t("dashboard.charts.sourceAudit") : t("dashboard.charts.sourcePublic", { count: data.count });
  draw("chart-participation", "bar", t("dashboard.charts.participation"), data.over, (l) => l, fmtInt, 0);
  draw("chart-areas", "bar", t("dashboard.charts.kgByArea"), data.areas, (l) => t("dashboard.charts.area", { code: l }), fmtDec);
}

/** Reads the figures the signed-in role may read, and draws them. */
export async function refreshCharts(): Promise<void> {
  const status = $("#charts-status");
  try {
    const audit = can("auditor", "admin");
    data = audit ? { ...(await fromAudit()), audit, count: 0 } : { ...(await fromPublic()), audit };
    say(status, "");
    render();
  } catch (e) {
    say(status, () => describe(e), "bad");
  }
}

export function rerender(): void {
  render();
}
