"""`esg-ledger bench api`: the public reads over real HTTP against a city-sized database, and the same
reads from a bare ASGI baseline on the same data in the same run.

Method (docs/benchmarks.md): a database of N actions with the activity they imply (`_api_data.py`)
is built once per set of parameters and cached, with the anvil state its block hashes come from.
The product (`esg-ledger serve`, ESG_API_WORKERS workers, its relayer and indexer jobs running) and
the baseline (`_api_baseline.py`, uvicorn with as many workers) serve it in turn. Each gets:

1. closed loop: `connections` keep-alive connections, each sending its next read as soon as the
   last is answered, for `seconds` after a warm-up → `read_rps` (`baseline_rps`);
2. open loop: `rate` reads a second offered for `seconds`, each timed from its scheduled send →
   `read_p50_ms`, `read_p99_ms` (`baseline_p50_ms`, `baseline_p99_ms`).

The reads are the mix of `_api_load.MIX`, keys drawn at random from the data.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from ledger.settings import PROJECT_ROOT, Settings

from . import _api_data, _api_load
from ._api_data import Dataset

__all__ = ["run"]

GENERATOR_VERSION = 2
_GENESIS_TIME = 1_764_547_200  # 2025-12-01
_PARITY = 300  # reads whose answers are compared between the product and the baseline
_ENV_KEEP = ("PATH", "HOME", "LANG", "LC_ALL", "VIRTUAL_ENV", "PYTHONPATH", "TMPDIR")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cache_key(actions: int, residents: int, seed: int) -> str:
    """Changes whenever the data would: parameters, generator, schema, derived tables, contracts."""
    from indexer.replay import code_versions

    migrations = sorted(p.name for p in (PROJECT_ROOT / "migrations" / "versions").glob("*.py"))
    contracts = sorted(
        (p.name, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in (PROJECT_ROOT / "contracts").rglob("*.sol")
    )
    blob = json.dumps([GENERATOR_VERSION, actions, residents, seed, code_versions(), migrations, contracts])
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def _node(work: Path, port: int) -> Any:
    from ledger.node import AnvilNode

    # Automine: no block appears unless a transaction is sent, so the mirror stays at the head. A fixed
    # genesis timestamp: anvil rebuilds the genesis block when it loads a state, and only with the same
    # timestamp does it get the same hash, which the deployment's manifest names.
    return AnvilNode(
        extra_args=("--timestamp", str(_GENESIS_TIME)),
        port=port,
        state_path=work / "anvil-state.json",
        block_time=0,
        log_path=work / "anvil.log",
    )


def build_dataset(
    work: Path, *, actions: int, residents: int, seed: int, log: Callable[[str], None]
) -> Dataset:
    """Deploys on a fresh anvil, mirrors the deployment, writes the data; leaves anvil's state on disk."""
    from eth_utils.address import to_checksum_address

    from indexer.runner import Indexer
    from ledger.chain.rpc import HttpRpc
    from ledger.db import make_engine
    from ledger.deploy import deploy
    from migrations import migrate

    node = _node(work, _free_port())
    node.start()
    try:
        settings = Settings(env="test", rpc_url=node.url, data_dir=work, relayer_count=1)
        deployment = deploy(settings)
        engine = make_engine(settings.db_url, synchronous="OFF")
        migrate(engine)
        rpc = HttpRpc(node.url)
        indexer = Indexer(
            engine,
            HttpRpc(node.url),
            chain_id=deployment.chain_id,
            addresses=[c.address for c in deployment.contracts.values()],
            start_block=deployment.start_block,
        )
        indexer.sync()
        t0 = time.monotonic()
        data = _api_data.build(
            engine,
            deployment=deployment,
            rpc=rpc,
            relayer=to_checksum_address(os.urandom(20)),  # a retired relayer key: no live key's nonces
            staff=settings.deployer().address,
            actions=actions,
            residents=residents,
            seed=seed,
            log=log,
        )
        indexer.sync()  # the mined blocks are empty: the cursor moves to the head
        data.counts["build_seconds"] = round(time.monotonic() - t0, 1)
        engine.dispose()
        rpc.close()
        import sqlite3

        db = sqlite3.connect(work / "ledger.db")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # no ANALYZE: the product never runs one either
        db.close()
    finally:
        node.stop()
    data.counts["db_bytes"] = (work / "ledger.db").stat().st_size
    (work / "dataset.json").write_text(json.dumps(data.to_json()))
    return data


def dataset(
    cache: Path | None, *, actions: int, residents: int, seed: int, log: Callable[[str], None]
) -> tuple[Path, Dataset, bool]:
    """The cached dataset for these parameters (built first if needed): (its folder, keys, reused?)."""
    root = cache or Path(tempfile.mkdtemp(prefix="esg-bench-api-"))
    work = root / f"api-{actions}-{residents}-{_cache_key(actions, residents, seed)}"
    if (work / "dataset.json").exists():
        return work, Dataset.from_json(json.loads((work / "dataset.json").read_text())), True
    building = work.with_name(work.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    log(f"building the database: {actions:,} actions of {residents:,} residents in {building}")
    data = build_dataset(building, actions=actions, residents=residents, seed=seed, log=log)
    building.rename(work)
    return work, data, False


def _env(extra: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k in _ENV_KEEP} | extra


def _wait_http(url: str, proc: subprocess.Popen[bytes], logfile: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not come up; see {logfile}")
        time.sleep(0.2)


def _stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _proc_cpu(pid: int) -> tuple[int, float]:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tree_cpu(root: int) -> float:
    """CPU seconds of a process and its children (uvicorn's workers), from /proc; 0 without /proc."""
    procs: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                procs[int(entry.name)] = _proc_cpu(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, _) in procs.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    return sum(procs[p][1] for p in tree if p in procs)


def _parity(
    sample: list[_api_load.Request], product: list[tuple[int, bytes]], base: list[tuple[int, bytes]]
) -> dict[str, Any]:
    """How many of the sampled reads the baseline answered exactly as the product (status and JSON)."""
    differ = [
        req.path
        for req, (ps, pb), (bs, bb) in zip(sample, product, base, strict=True)
        if ps != bs or json.loads(pb) != json.loads(bb)
    ]
    return {"compared": len(sample), "equal": len(sample) - len(differ), "differ": differ[:5]}


class _Server:
    """A server under test: its process, port and how much CPU its process tree has used."""

    def __init__(self, name: str, proc: subprocess.Popen[bytes], port: int) -> None:
        self.name, self.proc, self.port = name, proc, port
        self.closed = _api_load.PhaseResult()
        self.opened = _api_load.PhaseResult()
        self.cpu = {"closed": 0.0, "open": 0.0}

    def cpu_now(self) -> float:
        return _tree_cpu(self.proc.pid)


def _round(server: _Server, requests: list[_api_load.Request], phase: str, **kw: Any) -> None:
    cpu0 = server.cpu_now()
    if phase == "closed":
        result = _api_load.run(_api_load.closed_loop(server.port, requests, **kw))
        server.closed.merge(result)
    else:
        result = _api_load.run(_api_load.open_loop(server.port, requests, **kw))
        server.opened.merge(result)
    server.cpu[phase] += server.cpu_now() - cpu0


def _summary(server: _Server) -> dict[str, Any]:
    closed, opened = server.closed.summary(), server.opened.summary()
    closed["server_cpu_cores"] = round(server.cpu["closed"] / server.closed.seconds, 3)
    opened["server_cpu_cores"] = round(server.cpu["open"] / server.opened.seconds, 3)
    return {"closed_loop": closed, "open_loop": opened}


def _start(cmd: list[str], env: dict[str, str], logfile: Path, probe: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        cmd,
        env=env,
        cwd=PROJECT_ROOT,
        stdout=open(logfile, "ab"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_http(probe, proc, logfile)
    except BaseException:
        _stop(proc)
        raise
    return proc


def run(
    *,
    actions: int = 1_000_000,
    residents: int = 30_000,
    workers: int = 2,
    connections: int = 64,
    seconds: float = 30.0,
    warmup: float = 2.0,
    rate: float = 1000.0,
    rounds: int = 3,
    seed: int = 11,
    cache: Path | None = None,
    baseline: bool = True,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Builds or reuses the data, then measures the product (and the baseline) in `rounds` rounds that
    alternate between them, so a change in the machine's load during the run falls on both alike;
    each phase's `seconds` are split over the rounds."""
    from bench.pipeline import cpu_capacity

    load_before = os.getloadavg()
    t0 = time.monotonic()
    work, data, reused = dataset(cache, actions=actions, residents=residents, seed=seed, log=log)
    build_s = time.monotonic() - t0
    deployment = json.loads(next((work / "deployments").glob("*.json")).read_text())
    chain_id = int(deployment["chain_id"])
    token = deployment["contracts"]["ParticipationToken"]["address"]
    requests = _api_load.build_requests(data, max(100_000, int(rate * seconds) + 1), seed=seed)
    cores = cpu_capacity()
    log(f"the machine gives {cores} cores right now (load average {load_before[0]:.2f})")

    node = _node(work, _free_port())
    node.start()
    servers: list[_Server] = []
    probe = f"/v1/actions/{data.action_ids[0]}"
    try:
        port = _free_port()
        env = _env(
            {
                "ESG_ENV": "test",
                "ESG_RPC_URL": node.url,
                "ESG_DATA_DIR": str(work),
                "ESG_API_PORT": str(port),
                "ESG_API_WORKERS": str(workers),
                "ESG_RELAYER_COUNT": "1",
                "ESG_AUTO_DEPLOY": "false",  # the data's deployment or nothing: never a new one
                # one client at 1,000+ reads/s from loopback: no limit may throttle the benchmark
                "ESG_RESIDENT_RATE_PER_MINUTE": "0",
                "ESG_RATE_LIMIT_IP": "",
                "ESG_RATE_LIMIT_CLIENT": "",
            }
        )
        cmd = [sys.executable, "-m", "cli", "serve", "--no-embedded-node"]
        proc = _start(cmd, env, work / "server.log", f"http://127.0.0.1:{port}{probe}")
        servers.append(_Server("product", proc, port))
        log(f"product: esg-ledger serve, {workers} workers, on {work / 'ledger.db'}")
        if baseline:
            port = _free_port()
            args = [str(work / "ledger.db"), str(port), str(workers), str(chain_id), token]
            cmd = [sys.executable, "-m", "bench._api_baseline", *args]
            proc = _start(cmd, _env({}), work / "baseline.log", f"http://127.0.0.1:{port}{probe}")
            servers.append(_Server("baseline", proc, port))
            log(f"baseline: bare ASGI + sqlite3, uvicorn with {workers} workers")
        sample = requests[:_PARITY]
        answers = [_api_load.run(_api_load.answers(s.port, sample)) for s in servers]
        parity = _parity(sample, answers[0], answers[1]) if baseline else None
        share = seconds / rounds
        for r in range(rounds):
            for s in servers:
                _round(s, requests, "closed", connections=connections, seconds=share, warmup=warmup)
                log(
                    f"round {r + 1}/{rounds} {s.name} closed loop: {s.closed.summary()['rps']} reads/s so far"
                )
        for r in range(rounds):
            for s in servers:
                offset = (r * len(servers) + servers.index(s)) * int(rate * share)
                part = requests[offset:] + requests[:offset]
                _round(s, part, "open", rate=rate, seconds=share, connections=connections)
                o = s.opened.summary()
                log(f"round {r + 1}/{rounds} {s.name} open loop: p50 {o['p50_ms']}, p99 {o['p99_ms']} ms")
        figures = {s.name: _summary(s) for s in servers}
    finally:
        for s in servers:
            _stop(s.proc)
        node.stop()
    product = figures["product"]
    read_rps = product["closed_loop"]["rps"]
    base = figures.get("baseline")
    base_rps = base["closed_loop"]["rps"] if base else None
    load_after = os.getloadavg()
    return {
        "method": (
            f"real HTTP (keep-alive, no pipelining) to `esg-ledger serve` ({workers} workers, SQLite, jobs "
            f"running, anvil automine) on a database of {actions:,} actions of {residents:,} residents "
            "with the activity they imply, bulk-inserted into the migrated schema (not through the chain), "
            "state tables folded by the indexer's projections; reads mixed "
            + ", ".join(f"{int(v * 100)}% {k}" for k, v in _api_load.MIX.items())
            + f", keys at random; closed loop {connections} connections for {seconds:g}s → read_rps; open "
            f"loop {rate:g}/s offered for {seconds:g}s, each read timed from its scheduled send → "
            "read_p50/p99; the same reads from a bare ASGI app (same SQL, sqlite3, uvicorn, same workers) "
            f"on the same data → baseline_*; {rounds} rounds alternating product and baseline; "
            "see docs/benchmarks.md"
        ),
        "read_rps": read_rps,
        "read_p50_ms": product["open_loop"]["p50_ms"],
        "read_p99_ms": product["open_loop"]["p99_ms"],
        "baseline_rps": base_rps,
        "baseline_p50_ms": base["open_loop"]["p50_ms"] if base else None,
        "baseline_p99_ms": base["open_loop"]["p99_ms"] if base else None,
        "ratio_vs_baseline": round(read_rps / base_rps, 3) if base_rps else None,
        "mix": _api_load.MIX,
        "baseline_parity": parity,
        "phases": figures,
        "dataset": {
            "actions": actions,
            "residents": residents,
            "kind_shares": _api_data.KIND_SHARES,
            "rows": data.counts,
            "reused": reused,
            "prepare_seconds": round(build_s, 1),
            "path": str(work),
        },
        "machine": {
            "cpu_count": os.cpu_count(),
            "cpu_cores_available": cores,
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in load_after],
        },
        "workers": workers,
        "connections": connections,
        "rate_offered_per_s": rate,
        "seconds": seconds,
        "rounds": rounds,
    }
