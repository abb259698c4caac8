"""`esg-ledger`: serve, node, deploy, index, audit, verify, bench."""

from __future__ import annotations

import logging
import logging.config
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
bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks; each writes a JSON object of figures.")
app.add_typer(bench_app, name="bench")
console = Console(stderr=True)


def _logging(level: str | None = None) -> None:
    """ESG_LOG_FORMAT (JSON lines or text), secrets scrubbed, request ids (ledger/logs.py)."""
    from ledger.logs import logging_config

    logging.config.dictConfig(logging_config(get_settings(), level))


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
    from ledger.logs import logging_config

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
    log_config = logging_config(settings)
    try:
        if settings.api_workers == 1:
            uvicorn.run(
                create_app(settings),
                host=host or settings.api_host,
                port=port or settings.api_port,
                log_level="info",
                log_config=log_config,
                access_log=False,
            )
        else:
            # The relayer and indexer run once, here, beside uvicorn's supervisor; each worker process
            # only serves HTTP. Every worker writes through the database (accepts are idempotent by
            # digest, nonces are allocated under locks), so N workers are as safe as one.
            from api.services import Services

            jobs = Services.start(settings, run_jobs=True)
            _metrics_dir(settings)
            uvicorn.run(
                "api.app:api_only",
                factory=True,
                workers=settings.api_workers,
                host=host or settings.api_host,
                port=port or settings.api_port,
                log_level="info",
                log_config=log_config,
                access_log=False,
            )
    finally:
        if jobs is not None:
            jobs.stop()
        if node is not None:
            node.stop()


def _metrics_dir(settings: Settings) -> None:
    """The workers' request metrics are summed from files here (prometheus_client multiprocess mode):
    emptied at each start, so a past run's counts and dead workers' files are not added in."""
    import os
    import shutil

    shutil.rmtree(settings.metrics_dir, ignore_errors=True)
    settings.metrics_dir.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(settings.metrics_dir)  # for the workers' prometheus_client


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


@bench_app.command("api")
def bench_api(
    json_path: Annotated[str, typer.Option("--json", help="Where to write the figures.")],
    actions: Annotated[int, typer.Option(help="Actions in the database (built once, cached).")] = 1_000_000,
    residents: Annotated[int, typer.Option(help="Residents those actions are spread over.")] = 30_000,
    workers: Annotated[int, typer.Option(help="API worker processes (ESG_API_WORKERS), both servers.")] = 2,
    connections: Annotated[int, typer.Option(help="Client connections.")] = 64,
    seconds: Annotated[float, typer.Option(help="Length of each phase, split over the rounds.")] = 30.0,
    rate: Annotated[float, typer.Option(help="Offered reads/s of the open-loop phase.")] = 1000.0,
    rounds: Annotated[int, typer.Option(help="Rounds alternating the product and the baseline.")] = 3,
    cache: Annotated[
        str | None, typer.Option(help="Where databases are kept for reuse (default: data dir/bench-api).")
    ] = None,
    baseline: Annotated[
        bool, typer.Option("--baseline/--no-baseline", help="Measure the bare ASGI floor too.")
    ] = True,
) -> None:
    """Public reads over real HTTP on a city-sized database: closed-loop throughput, open-loop latency,
    against a bare ASGI baseline on the same data."""
    import json
    from pathlib import Path

    from bench.api import run

    _logging("WARNING")
    figures = run(
        actions=actions,
        residents=residents,
        workers=workers,
        connections=connections,
        seconds=seconds,
        rate=rate,
        rounds=rounds,
        cache=Path(cache) if cache else get_settings().data_dir / "bench-api",
        baseline=baseline,
        log=lambda m: console.print(m),
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

from .verify import verify_app  # noqa: E402

app.add_typer(verify_app, name="verify")

from .partners import partner_app  # noqa: E402

app.add_typer(partner_app, name="partner")

from .platforms import platform_app  # noqa: E402

app.add_typer(platform_app, name="platform")

from .audit import audit_app  # noqa: E402

app.add_typer(audit_app, name="audit")

from .privacy import privacy_app  # noqa: E402

app.add_typer(privacy_app, name="privacy")
