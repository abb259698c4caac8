"""`esg-ledger`: serve, node, deploy, index, audit, verify, bench."""

from __future__ import annotations

import logging
import signal
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from ledger.chain.rpc import HttpRpc
from ledger.deploy import Deployment
from ledger.node import AnvilNode
from ledger.settings import Settings, get_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from indexer.runner import Indexer

app = typer.Typer(no_args_is_help=True, help="ESG participation ledger: contracts, relayer, indexer and API.")
audit_app = typer.Typer(no_args_is_help=True, help="Check the SQL mirror against the chain.")
bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks; each writes a JSON object of figures.")
app.add_typer(audit_app, name="audit")
app.add_typer(bench_app, name="bench")
console = Console(stderr=True)


def _logging(level: str = "INFO") -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # "skipped: maximum number of running instances reached" is the point of max_instances=1.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)


def _embedded_node(settings: Settings) -> AnvilNode:

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return AnvilNode(
        port=settings.node_port,
        state_path=settings.data_dir / "anvil-state.json",
        block_time=settings.node_block_time,
        state_interval=settings.node_state_interval,
        log_path=settings.data_dir / "anvil.log",
    )


@app.command()
def serve(
    embedded_node: Annotated[
        bool | None,
        typer.Option("--embedded-node/--no-embedded-node", help="Start anvil (state under data/)."),
    ] = None,
    host: Annotated[str | None, typer.Option(help="Listen address (ESG_API_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port (ESG_API_PORT).")] = None,
) -> None:
    """Serve the API with the relayer and indexer jobs; optionally run the embedded anvil too."""
    import uvicorn

    from api.app import create_app

    _logging()
    settings = get_settings()
    node = (
        _embedded_node(settings)
        if (settings.embedded_node if embedded_node is None else embedded_node)
        else None
    )
    if node is not None:
        node.start()
        console.print(f"anvil on {node.url}, state in {node.state_path}")
    # SIGTERM stops uvicorn the way Ctrl-C does, so the node below is stopped too.
    signal.signal(signal.SIGTERM, lambda *_: signal.raise_signal(signal.SIGINT))
    jobs = None
    try:
        if settings.api_workers == 1:
            uvicorn.run(
                create_app(settings),
                host=host or settings.api_host,
                port=port or settings.api_port,
                log_level="info",
                access_log=False,
            )
        else:
            # The relayer and indexer run once, here, beside uvicorn's supervisor; each worker process
            # only serves HTTP. Every worker writes through the database (accepts are idempotent by
            # digest, nonces are allocated under locks), so N workers are as safe as one.
            from api.services import Services

            jobs = Services.start(settings, run_jobs=True)
            uvicorn.run(
                "api.app:api_only",
                factory=True,
                workers=settings.api_workers,
                host=host or settings.api_host,
                port=port or settings.api_port,
                log_level="info",
                access_log=False,
            )
    finally:
        if jobs is not None:
            jobs.stop()
        if node is not None:
            node.stop()


@app.command()
def node() -> None:
    """Run the embedded anvil in the foreground, its state persisted under the data folder."""
    _logging()
    settings = get_settings()
    n = _embedded_node(settings).start()
    console.print(f"anvil on {n.url} (chain 31337), state in {n.state_path}; Ctrl-C stops it")
    try:
        assert n.process is not None
        n.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        n.stop()


@app.command()
def deploy(
    force: Annotated[bool, typer.Option(help="Deploy even if the manifest's deployment is live.")] = False,
) -> None:
    """Deploy the contracts (unless already live) and write the chain's manifest."""
    from ledger.deploy import deploy as do_deploy
    from ledger.deploy import ensure_deployment

    _logging()
    settings = get_settings()
    deployment = do_deploy(settings) if force else ensure_deployment(settings, HttpRpc(settings.rpc))
    for name, c in deployment.contracts.items():
        console.print(f"{name:20} {c.address}")
    console.print(f"chain {deployment.chain_id}, start block {deployment.start_block}")


def _context(settings: Settings) -> tuple[HttpRpc, Deployment, Engine]:
    """The node, this chain's deployment manifest and the migrated database."""
    from ledger.db import make_engine
    from ledger.deploy import Deployment, chain_identity, manifest_path
    from migrations import migrate

    rpc = HttpRpc(settings.rpc)
    chain_id, _ = chain_identity(rpc)
    path = manifest_path(settings, chain_id)
    if not path.exists():
        console.print(
            f"[red]no deployment manifest for chain {chain_id} at {path}[/red]: run `esg-ledger deploy`"
        )
        raise typer.Exit(2)
    engine = make_engine(settings.db_url)
    migrate(engine)
    return rpc, Deployment.load(path), engine


def _indexer(settings: Settings, rpc: HttpRpc, deployment: Deployment, engine: Engine) -> Indexer:
    from indexer.runner import Indexer

    return Indexer(
        engine,
        rpc,
        chain_id=deployment.chain_id,
        addresses=[c.address for c in deployment.contracts.values()],
        start_block=deployment.start_block,
        finality_depth=settings.finality_depth,
        max_range=settings.indexer_max_range,
    )


@app.command()
def index(
    rebuild: Annotated[
        bool, typer.Option(help="Delete this chain's mirror rows first and index from scratch.")
    ] = False,
    replay: Annotated[
        bool,
        typer.Option(
            help="Rebuild every derived table from the raw logs in SQL (no node needed), then stop."
        ),
    ] = False,
) -> None:
    """Catch the SQL mirror up with the chain once, with a progress bar."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from indexer.replay import code_versions
    from indexer.replay import rebuild as replay_tables
    from indexer.store import rollback_to

    _logging("WARNING")
    settings = get_settings()
    if replay:
        from ledger.db import make_engine
        from migrations import migrate

        engine = make_engine(settings.db_url)
        migrate(engine)
        with engine.begin() as conn:
            rebuilt = replay_tables(conn, sorted(code_versions()))
        console.print(f"rebuilt from raw logs: {', '.join(rebuilt)}")
        return
    rpc, deployment, engine = _context(settings)
    if rebuild:
        with engine.begin() as conn:
            deleted = rollback_to(conn, deployment.chain_id, deployment.start_block - 1, "0x")
        console.print(f"rebuilding: deleted {deleted}")
    indexer = _indexer(settings, rpc, deployment, engine)
    columns = (
        TextColumn("indexing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("blocks"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("indexing", total=None)

        def report(position: int, head: int) -> None:
            progress.update(
                task, completed=position - deployment.start_block + 1, total=head - deployment.start_block + 1
            )

        result = indexer.sync(progress=report)
    console.print(
        f"indexed to block {result.indexed} (head {result.head}): "
        f"{result.events} events, {result.reorgs} forks"
    )


@audit_app.command("reconcile")
def audit_reconcile() -> None:
    """Recount every row and balance from raw chain logs and token state; exit 1 on any mismatch."""
    from rich.table import Table

    from indexer.audit import reconcile

    _logging("WARNING")
    rpc, deployment, engine = _context(get_settings())
    report = reconcile(engine, rpc, deployment)
    table = Table(title=f"chain {deployment.chain_id}, up to block {report.block}")
    table.add_column("checked")
    table.add_column("count", justify="right")
    for what, n in report.counts.items():
        table.add_row(what, str(n))
    Console().print(table)
    if report.ok:
        Console().print("[green]0 mismatches[/green]: the mirror equals the chain")
        return
    for m in report.mismatches[:50]:
        Console().print(f"[red]{m.what}[/red] {m.key}: chain={m.chain!r} mirror={m.mirror!r}")
    Console().print(f"[red]{len(report.mismatches)} mismatches[/red]")
    raise typer.Exit(1)


@app.command()
def verify(
    target: Annotated[str, typer.Argument(help="An action id (EIP-712 digest) or a resident address.")],
    api: Annotated[
        str | None, typer.Option(help="Also compare with what this API claims (base URL).")
    ] = None,
) -> None:
    """Check a record or a balance on-chain, without trusting the city's database; exit 1 if they disagree."""
    import httpx

    from ledger.deploy import Deployment, chain_identity, manifest_path
    from ledger.verify import verify_action, verify_balance

    _logging("WARNING")
    settings = get_settings()
    rpc = HttpRpc(settings.rpc)
    chain_id, _ = chain_identity(rpc)
    path = manifest_path(settings, chain_id)
    if path.exists():
        deployment = Deployment.load(path)
    elif api:
        public = httpx.get(f"{api}/v1/deployment", timeout=30).json()
        deployment = Deployment.from_public(public)
        console.print(
            f"contracts as published by {api}: "
            + ", ".join(f"{n} {c.address}" for n, c in deployment.contracts.items())
        )
    else:
        console.print(f"[red]no deployment manifest at {path}; pass --api to read the published one[/red]")
        raise typer.Exit(2)
    out = Console()
    agree = True
    if len(target) == 66:
        record = verify_action(rpc, deployment, target)
        out.print_json(data=record.__dict__)
        if api:
            claim = httpx.get(f"{api}/v1/actions/{target}", timeout=30).json()
            claimed = claim.get("status") == "confirmed"
            agree = claimed == record.found and (
                not claimed
                or (claim["blockNumber"], claim["logIndex"]) == (record.block_number, record.log_index)
            )
            out.print(
                f"API says {claim.get('status')} at block {claim.get('blockNumber')}: "
                + ("[green]agrees[/green]" if agree else "[red]DISAGREES[/red]")
            )
        elif not record.found:
            agree = False
    else:
        balance = verify_balance(rpc, deployment, target)
        out.print_json(data={"address": target, "balance": balance})
        if api:
            claimed_balance = httpx.get(f"{api}/v1/residents/{target}", timeout=30).json()["balance"]
            agree = claimed_balance == balance
            out.print(
                f"API says {claimed_balance}: "
                + ("[green]agrees[/green]" if agree else "[red]DISAGREES[/red]")
            )
    if not agree:
        raise typer.Exit(1)


@bench_app.command("gas")
def bench_gas(json_path: Annotated[str, typer.Option("--json", help="Where to write the figures.")]) -> None:
    """Gas per action for every kind, against EAS multiAttestByDelegation, on one anvil in one run."""
    import json

    from bench.gas import run_gas_bench

    _logging("WARNING")
    figures = run_gas_bench()
    with open(json_path, "w") as fh:
        json.dump(figures, fh, indent=2)
    Console().print_json(data=figures)


@bench_app.command("signatures")
def bench_signatures(
    json_path: Annotated[str, typer.Option("--json", help="Where to write the figures.")],
    count: Annotated[int, typer.Option(help="Signed actions to verify per method.")] = 2000,
) -> None:
    """EIP-712 verification throughput: ours (fixed layout + coincurve) against eth-account's generic path."""
    import json

    from bench import signatures

    figures = signatures(count)
    with open(json_path, "w") as fh:
        json.dump(figures, fh, indent=2)
    Console().print_json(data=figures)


@bench_app.command("indexer")
def bench_indexer(
    json_path: Annotated[str, typer.Option("--json", help="Where to write the figures.")],
    sessions: Annotated[int, typer.Option(help="Plogging sessions to record (two events each).")] = 100_000,
    residents: Annotated[int, typer.Option(help="Distinct residents signing them.")] = 2_000,
    live_seconds: Annotated[float, typer.Option(help="Length of the live phase (0: skip).")] = 30,
    ponder: Annotated[bool, typer.Option("--ponder/--no-ponder", help="Run Ponder 0.16.10 too.")] = True,
    postgres: Annotated[
        bool, typer.Option("--postgres/--no-postgres", help="Index into PostgreSQL too.")
    ] = True,
) -> None:
    """Backfill speed (ours into SQLite and PostgreSQL, Ponder), live lag, and the audit afterwards."""
    import json

    from bench.indexer import run

    _logging("WARNING")
    figures = run(
        sessions=sessions,
        residents=residents,
        live_seconds=live_seconds,
        ponder=ponder,
        postgres=postgres,
        progress=console.print,
    )
    with open(json_path, "w") as fh:
        json.dump(figures, fh, indent=2)
    Console().print_json(data=figures)


@bench_app.command("pipeline")
def bench_pipeline(
    json_path: Annotated[str, typer.Option("--json", help="Where to write the figures.")],
    residents: Annotated[int, typer.Option(help="Residents, each signing --per-resident actions.")] = 2000,
    per_resident: Annotated[int, typer.Option(help="Actions per resident (the daily cap is 10).")] = 10,
    concurrency: Annotated[int, typer.Option(help="Client connections for the one-per-POST phase.")] = 32,
    workers: Annotated[int, typer.Option(help="API worker processes (ESG_API_WORKERS).")] = 2,
    relayers: Annotated[int, typer.Option(help="Relayer keys (ESG_RELAYER_COUNT).")] = 4,
    max_in_flight: Annotated[int, typer.Option(help="Transactions in flight per key.")] = 64,
    rate: Annotated[
        float, typer.Option(help="Offered actions/s of the paced phase (the latency figures); 0 skips it.")
    ] = 500.0,
    mix: Annotated[
        bool,
        typer.Option(
            "--mix",
            help="A realistic mix (70% plogging, 15% feedback, 10% support, 5% redemption and donation) "
            "after an untimed set-up, instead of plogging alone.",
        ),
    ] = False,
    keep: Annotated[str | None, typer.Option(help="Keep the run's data (logs, database) here.")] = None,
) -> None:
    """End to end: signed actions over real HTTP → relayer → anvil (1 s blocks) → indexer → SQL mirror."""
    import json
    from pathlib import Path

    from bench.pipeline import pipeline

    _logging("WARNING")
    figures = pipeline(
        residents=residents,
        per_resident=per_resident,
        concurrency=concurrency,
        workers=workers,
        relayers=relayers,
        max_in_flight=max_in_flight,
        rate=rate,
        mix=mix,
        keep=Path(keep) if keep else None,
        log=lambda m: console.print(m),
    )
    with open(json_path, "w") as fh:
        json.dump(figures, fh, indent=2)
    Console().print_json(data=figures)


# Last: `cli.rewards` uses this module's helpers inside its commands.
from .rewards import rewards_app  # noqa: E402

app.add_typer(rewards_app, name="rewards")

from .staff import staff_app  # noqa: E402

app.add_typer(staff_app, name="staff")
