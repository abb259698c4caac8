"""`esg-ledger`: serve, node, deploy, index, audit, verify, bench."""

from __future__ import annotations

import logging
import signal
from typing import Annotated

import typer
from rich.console import Console

from .node import AnvilNode
from .settings import Settings, get_settings

app = typer.Typer(no_args_is_help=True, help="ESG participation ledger: contracts, relayer, indexer and API.")
audit_app = typer.Typer(no_args_is_help=True, help="Check the SQL mirror against the chain.")
bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks; each writes a JSON object of figures.")
app.add_typer(audit_app, name="audit")
app.add_typer(bench_app, name="bench")
console = Console(stderr=True)


def _logging(level: str = "INFO") -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


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
    try:
        uvicorn.run(
            create_app(settings),
            host=host or settings.api_host,
            port=port or settings.api_port,
            log_level="info",
            access_log=False,
        )
    finally:
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
    from .deploy import deploy as do_deploy
    from .deploy import ensure_deployment
    from .rpc import HttpRpc

    _logging()
    settings = get_settings()
    deployment = do_deploy(settings) if force else ensure_deployment(settings, HttpRpc(settings.rpc))
    for name, c in deployment.contracts.items():
        console.print(f"{name:20} {c.address}")
    console.print(f"chain {deployment.chain_id}, start block {deployment.start_block}")


@app.command()
def index() -> None:
    """Catch the SQL mirror up with the chain once, with a progress bar."""
    from rich.progress import Progress

    from indexer.runner import Indexer

    from .db import make_engine, migrate
    from .deploy import Deployment, chain_identity, manifest_path
    from .rpc import HttpRpc

    _logging("WARNING")
    settings = get_settings()
    rpc = HttpRpc(settings.rpc)
    chain_id, _ = chain_identity(rpc)
    deployment = Deployment.load(manifest_path(settings, chain_id))
    engine = make_engine(settings.db_url)
    migrate(engine)
    indexer = Indexer(
        engine,
        rpc,
        chain_id=chain_id,
        addresses=[c.address for c in deployment.contracts.values()],
        start_block=deployment.start_block,
        finality_depth=settings.finality_depth,
        max_range=settings.indexer_max_range,
    )
    with Progress(console=console) as progress:
        task = progress.add_task("indexing", total=None)

        def report(position: int, head: int) -> None:
            progress.update(
                task, completed=position - deployment.start_block, total=head - deployment.start_block
            )

        result = indexer.sync(progress=report)
    console.print(f"indexed to block {result.indexed} (head {result.head}): {result.events} events")
