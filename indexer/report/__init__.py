"""`esg-ledger audit report`: an ESG report for a period, as self-contained HTML (charts inlined as SVG,
the Korean font embedded) and a PDF, with `anchors.csv` (every row behind every figure, by its log),
`metrics.json` (figures and their SQL) and the charts' Vega-Lite specs. Its first line is the
reconciliation: the mirror checked against the chain (indexer/audit.py) when the report was made.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eth_utils.address import to_checksum_address
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import Connection, Engine, func, select

from ledger.chain.rpc import Transport
from ledger.deploy import Deployment
from ledger.errors import AuditQueryError

from ..audit import reconcile
from ..esg_metrics import Figure, MetricSet, metrics, populations
from ..exports._kinds import ANCHOR
from ..exports.periods import BlockClock, BlockPeriod, day_of, iso
from . import charts
from ._text import TEXT
from .fonts import font_faces

__all__ = ["ANCHOR_COLUMNS", "POPULATION_FIGURES", "Reconciliation", "ReportResult", "build_report"]

# which figures each population (a named row set) stands behind
POPULATION_FIGURES = {
    "plogging_accepted_sessions": "participation.* waste.* chart:participation chart:kilograms",
    "feedback_submissions": "feedback.* chart:funnel",
    "token_mints": "tokens.issued tokens.outstanding chart:tokens",
    "token_burns": "tokens.burned tokens.outstanding",
    "redemptions": "tokens.redeemed chart:tokens",
    "donations": "tokens.donated",
}
ANCHOR_COLUMNS = ("population", "figures", *(c for c, _ in ANCHOR))
_TEMPLATES = Path(__file__).parent / "templates"


@dataclass
class Reconciliation:
    ok: bool
    block: int
    block_hash: str
    mismatches: int
    checked_at: str
    line: str


@dataclass
class ReportResult:
    directory: Path
    html: Path
    pdf: Path
    anchors: Path
    metrics: MetricSet
    reconciliation: Reconciliation
    specs: dict[str, dict[str, Any]]


def _reconcile(
    engine: Engine, rpc: Transport, deployment: Deployment, clock: BlockClock, t: dict[str, str]
) -> Reconciliation:
    audit = reconcile(engine, rpc, deployment)
    at = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    block_hash = clock.block_hash(audit.block) if audit.block >= 0 else ""
    template = t["reconcile_ok"] if audit.ok else t["reconcile_failed"]
    line = template.format(block=audit.block, hash=block_hash, at=at, n=len(audit.mismatches))
    return Reconciliation(audit.ok, audit.block, block_hash, len(audit.mismatches), at, line)


def _sql(conn: Connection, statement: Any) -> str:
    return str(statement.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))


def _by_day(conn: Connection, clock: BlockClock, statement: Any) -> list[tuple[str, Any]]:
    rows = conn.execute(statement).all()
    stamps = clock.timestamps(r[0] for r in rows)
    return [(day_of(stamps[r[0]]), r[1]) for r in rows]


def _chart_data(
    conn: Connection, clock: BlockClock, result: MetricSet, pops: dict[str, Any], t: dict[str, str]
) -> dict[str, list[dict[str, Any]]]:
    sessions = pops["plogging_accepted_sessions"].subquery("sessions")
    per_block = select(sessions.c.block_number, sessions.c.resident).order_by(sessions.c.block_number)
    result.queries["participation_by_block"] = _sql(conn, per_block)
    count: dict[str, int] = defaultdict(int)
    people: dict[str, set[str]] = defaultdict(set)
    for day, resident in _by_day(conn, clock, per_block):
        count[day] += 1
        people[day].add(resident)
    participation = [
        row
        for day in sorted(count)
        for row in (
            {"day": day, "series": t["sessions"], "value": count[day]},
            {"day": day, "series": t["participants"], "value": len(people[day])},
        )
    ]
    by_area = (
        select(sessions.c.area_code, func.sum(sessions.c.trash_grams))
        .group_by(sessions.c.area_code)
        .order_by(sessions.c.area_code)
    )
    result.queries["kilograms_by_area"] = _sql(conn, by_area)
    kilograms = [{"area": str(a), "kilograms": int(g) / 1000} for a, g in conn.execute(by_area)]
    mints = pops["token_mints"].subquery("mints")
    redeemed = pops["redemptions"].subquery("redeemed")
    mint_q = select(mints.c.block_number, func.sum(mints.c.value)).group_by(mints.c.block_number)
    redeem_q = select(redeemed.c.block_number, func.sum(redeemed.c.amount)).group_by(redeemed.c.block_number)
    result.queries["tokens_issued_by_block"] = _sql(conn, mint_q)
    result.queries["tokens_redeemed_by_block"] = _sql(conn, redeem_q)
    points: dict[tuple[str, str], int] = defaultdict(int)
    for series, statement in ((t["issued"], mint_q), (t["redeemed"], redeem_q)):
        for day, value in _by_day(conn, clock, statement):
            points[day, series] += int(value)
    days = sorted({d for d, _ in points})
    tokens = [
        {"day": d, "series": s, "points": points.get((d, s), 0)}
        for d in days
        for s in (t["issued"], t["redeemed"])
    ]
    f = result.figures
    funnel = [
        {"order": i, "stage": t[stage], "items": f[f"feedback.{key}"].value}
        for i, (stage, key) in enumerate(
            (
                ("submitted", "received"),
                ("supported", "supported"),
                ("answered", "answered"),
                ("closed", "closed"),
            )
        )
    ]
    return {"participation": participation, "kilograms": kilograms, "tokens": tokens, "funnel": funnel}


def _write_anchors(conn: Connection, path: Path, pops: dict[str, Any]) -> int:
    n = 0
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(ANCHOR_COLUMNS)
        for name, statement in pops.items():
            sub = statement.subquery(name)
            anchor = select(*(sub.c[c] for c, _ in ANCHOR)).order_by(sub.c.block_number, sub.c.log_index)
            result = conn.execution_options(yield_per=1000).execute(anchor)
            for row in result:
                chain_id, contract, *rest = row
                writer.writerow(
                    [name, POPULATION_FIGURES[name], chain_id, to_checksum_address(contract), *rest]
                )
                n += 1
    return n


def _shown(f: Figure, t: dict[str, str]) -> str:
    if f.value is None:
        return t["not_available"]
    if isinstance(f.value, float):
        return f"{f.value:,.3f}".rstrip("0").rstrip(".") if f.unit != "ratio" else f"{f.value:.1%}"
    return f"{f.value:,}"


def build_report(
    engine: Engine,
    rpc: Transport,
    deployment: Deployment,
    *,
    since: int | None,
    until: int | None,
    out_dir: Path,
    lang: str = "ko",
) -> ReportResult:
    """Reconciles, computes the figures and charts, and writes the report's files into `out_dir`."""
    if lang not in TEXT:
        raise AuditQueryError(f"languages are {', '.join(TEXT)}", field="lang")
    t = TEXT[lang]
    clock = BlockClock(rpc)
    rec = _reconcile(engine, rpc, deployment, clock, t)
    period: BlockPeriod = clock.period(since, until, start_block=deployment.start_block, last_block=rec.block)
    out_dir.mkdir(parents=True, exist_ok=True)
    chain_id = deployment.chain_id
    with engine.connect() as conn:
        result = metrics(conn, clock, chain_id=chain_id, period=period)
        pops = populations(chain_id, period)
        data = _chart_data(conn, clock, result, pops, t)
        _write_anchors(conn, out_dir / "anchors.csv", pops)
    probe = "".join(t.values()) + "".join(str(r) for rows in data.values() for r in rows) + "0123456789"
    font_css, stack = font_faces(probe)
    specs = {
        "participation": charts.participation(data["participation"], t, stack),
        "kilograms": charts.kilograms_by_area(data["kilograms"], t, stack),
        "tokens": charts.tokens(data["tokens"], t, stack),
        "funnel": charts.funnel(data["funnel"], t, stack),
    }
    queries = {
        "participation": "participation_by_block",
        "kilograms": "kilograms_by_area",
        "tokens": "tokens_issued_by_block",
        "funnel": "feedback_funnel",
    }
    (out_dir / "charts").mkdir(exist_ok=True)
    for name, spec in specs.items():
        (out_dir / "charts" / f"{name}.vl.json").write_text(json.dumps(spec, indent=1, ensure_ascii=False))
    env = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape(["j2", "html"]))
    since_label = iso(since) if since is not None else "…"
    until_label = iso(until) if until is not None else "…"
    html = env.get_template("report.html.j2").render(
        lang=lang,
        t=t,
        font_css=font_css,
        font_stack=stack,
        period_label=f"{since_label} to {until_label}",
        first_block=period.first,
        last_block=period.last,
        chain_id=chain_id,
        generated=rec.checked_at,
        reconcile=rec,
        figures={k: {**vars(f), "shown": _shown(f, t)} for k, f in result.figures.items()},
        charts=[
            {"id": n, "svg": charts.svg(s), "query": queries[n], "anchor_figure": f"chart:{n}"}
            for n, s in specs.items()
        ],
        queries=result.queries,
    )
    html_path, pdf_path = out_dir / "report.html", out_dir / "report.pdf"
    html_path.write_text(html)
    from weasyprint import HTML

    HTML(string=html, base_url=str(out_dir)).write_pdf(pdf_path)
    summary = result.as_json() | {"reconciliation": vars(rec), "charts": data}
    (out_dir / "metrics.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False))
    return ReportResult(out_dir, html_path, pdf_path, out_dir / "anchors.csv", result, rec, specs)
