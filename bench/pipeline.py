"""`esg-ledger bench pipeline`: signed residents' actions through the real HTTP API, relayer, anvil
(1 s blocks, 30M gas) and indexer, timed from each POST to its row in the SQL mirror.

Method (docs/benchmarks.md): a fresh anvil and a fresh SQLite database; the server runs as its own
process (`esg-ledger serve`). Residents' actions are signed beforehand (not timed): plogging
sessions only, or with `mix` the realistic mix of `bench/_mix.py` after its set-up. Three phases,
each with its own fresh residents:

1. paced: one action per POST at a fixed offered rate (open loop, `--rate`, default 500/s: the
   target throughput). Each action's clock starts at its scheduled send time, so a client that
   falls behind counts against the server. This gives the end-to-end latency figures.
2. saturated: one action per POST, as fast as `--concurrency` connections go. This gives
   `accepted_per_s` and `confirmed_per_s`, and the latency of a queue that grows because intake
   outruns the chain (`saturated_e2e_*`).
3. batched: `POST /v1/actions/batch`, 200 a request (`accepted_per_s_batched`).

A reader polls the mirror every 20 ms and stamps each digest when it first appears. Lost and
duplicated actions are counted against the chain's own logs, over all phases.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from ledger.chain.rpc import HttpRpc
from ledger.deploy import deploy
from ledger.node import AnvilNode
from ledger.settings import PROJECT_ROOT, Settings

from . import _mix
from ._http import Connection
from ._mirror import (
    MirrorWatcher,
    chain_counts,
    gas_by_kind,
    last_relay_tx,
    mirror_rows,
    table_of,
    wait_seen,
)
from ._signing import Signed, sign_actions

__all__ = ["MirrorWatcher", "Signed", "cpu_capacity", "pipeline", "sign_actions"]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _post_each(port: int, actions: list[Signed], concurrency: int) -> dict[str, float]:
    sent: dict[str, float] = {}
    queue = iter(actions)

    async def worker() -> None:
        conn = Connection("127.0.0.1", port)
        try:
            for a in queue:
                for _ in range(20):  # a client retries the same signed action until it is accepted
                    sent.setdefault(a.digest, time.monotonic())
                    try:
                        status, body = await conn.request("POST", "/v1/actions", a.body)
                    except (ConnectionError, asyncio.IncompleteReadError):
                        conn = Connection("127.0.0.1", port)
                        continue
                    if status == 202 and body["id"] == a.digest:
                        break
                    raise RuntimeError(f"POST /v1/actions answered {status}: {body}")
        finally:
            conn.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return sent


async def _post_paced(port: int, actions: list[Signed], rate: float, connections: int) -> dict[str, float]:
    """Open loop: action i is due at start + i/rate; its clock starts then, whenever it is sent."""
    sent: dict[str, float] = {}
    start = time.monotonic() + 0.05
    queue = iter(enumerate(actions))

    async def worker() -> None:
        conn = Connection("127.0.0.1", port)
        try:
            for i, a in queue:
                due = start + i / rate
                sent[a.digest] = due
                if (wait := due - time.monotonic()) > 0:
                    await asyncio.sleep(wait)
                for _ in range(20):
                    try:
                        status, body = await conn.request("POST", "/v1/actions", a.body)
                    except (ConnectionError, asyncio.IncompleteReadError):
                        conn = Connection("127.0.0.1", port)
                        continue
                    if status == 202 and body["id"] == a.digest:
                        break
                    raise RuntimeError(f"POST /v1/actions answered {status}: {body}")
        finally:
            conn.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return sent


async def _post_batches(port: int, actions: list[Signed], size: int, concurrency: int) -> dict[str, float]:
    sent: dict[str, float] = {}
    chunks = iter([actions[i : i + size] for i in range(0, len(actions), size)])

    async def worker() -> None:
        conn = Connection("127.0.0.1", port)
        try:
            for chunk in chunks:
                body = json.dumps({"actions": [a.item for a in chunk]}).encode()
                now = time.monotonic()
                for a in chunk:
                    sent[a.digest] = now
                status, reply = await conn.request("POST", "/v1/actions/batch", body)
                ids = [r.get("id") for r in reply["results"]] if status == 202 else []
                if ids != [a.digest for a in chunk]:
                    raise RuntimeError(f"POST /v1/actions/batch answered {status}: {str(reply)[:300]}")
        finally:
            conn.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return sent


def _spin(n: int) -> float:
    t = time.perf_counter()
    sum(i * i for i in range(n))
    return time.perf_counter() - t


def cpu_capacity(n: int = 3_000_000) -> float:
    """How many cores this machine gives right now: one CPU-bound loop's time against two run at
    once (2.0 on two idle cores). The figures below depend on it; a shared host varies run to run."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(2) as pool:
        pool.map(_spin, [1000, 1000])  # start-up, not timed
        alone = min(pool.apply(_spin, (n,)) for _ in range(2))
        t = time.perf_counter()
        pool.map(_spin, [n, n])
        together = time.perf_counter() - t
    return round(min(2.0, 2 * alone / together), 2)


def _proc_cpu(pid: int) -> tuple[int, float]:
    """(parent pid, user + system CPU seconds) of a live process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds spent by each part of the pipeline: the server's jobs process (relayer,
    indexer), its HTTP workers (the server's child processes), anvil, and this client (its
    load generators and the mirror watcher). Read from /proc; empty where there is no /proc."""

    def __init__(self, server: int, anvil: int) -> None:
        self.server, self.anvil = server, anvil

    def read(self) -> dict[str, float]:
        try:
            procs = {}
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    try:
                        procs[int(entry.name)] = _proc_cpu(int(entry.name))
                    except (OSError, IndexError, ValueError):
                        continue  # it ended meanwhile
            workers = sum(cpu for ppid, cpu in procs.values() if ppid == self.server)
            own = os.times()
            return {
                "server_jobs": procs[self.server][1],
                "api_workers": workers,
                "anvil": procs[self.anvil][1],
                "client": own.user + own.system,
            }
        except (OSError, KeyError):
            return {}

    @staticmethod
    def per_action(before: dict[str, float], after: dict[str, float], actions: int) -> dict[str, float]:
        """CPU milliseconds per action by part, and their total."""
        out = {k: round((after[k] - before[k]) * 1000 / actions, 3) for k in after if k in before}
        return out | {"total": round(sum(out.values()), 3)} if out else {}


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _start_server(work: Path, env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--no-embedded-node"],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=open(work / "server.log", "ab"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the server did not start; see {work / 'server.log'}")
        time.sleep(0.2)


def _set_up_mix(
    load: _mix.MixLoad, port: int, watcher: MirrorWatcher, batch_size: int, timeout: float, log: Any
) -> int:
    """The mix's set-up (not timed), through the same API; returns how many actions it recorded."""
    load.register()
    sessions = load.setup_sessions()
    log(f"set-up: {len(sessions)} plogging sessions (points and a resident slot for every resident)")
    asyncio.run(_post_batches(port, sessions, batch_size, 4))
    wait_seen(watcher, [a.digest for a in sessions], timeout)
    log("set-up: preparing every feedback action (POST /v1/actions/prepare stores its text)")
    items = asyncio.run(load.prepare_feedback(port))
    asyncio.run(_post_each(port, items, 8))
    wait_seen(watcher, [a.digest for a in items], timeout)
    missing = [a.digest for a in sessions + items if a.digest not in watcher.seen]
    if missing:
        raise RuntimeError(f"the set-up's actions did not all reach the mirror ({len(missing)} missing)")
    log(f"set-up: {len(items)} feedback items to support")
    return len(sessions) + len(items)


def pipeline(
    *,
    residents: int = 2000,
    per_resident: int = 10,
    concurrency: int = 32,
    batch_size: int = 200,
    workers: int = 2,
    relayers: int = 4,
    max_in_flight: int = 64,
    rate: float = 500.0,
    mix: bool = False,
    timeout: float = 600.0,
    keep: Path | None = None,
    log: Any = print,
) -> dict[str, Any]:
    work = keep or Path(tempfile.mkdtemp(prefix="esg-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    node = AnvilNode(port=_free_port(), block_time=1.0, log_path=work / "anvil.log")
    node.start()
    server: subprocess.Popen[bytes] | None = None
    load: _mix.MixLoad | None = None
    kinds = _mix.KINDS if mix else ("plogging",)
    tables = [table_of(k) for k in kinds]
    db = work / "ledger.db"
    try:
        settings = Settings(env="test", rpc_url=node.url, data_dir=work, relayer_count=relayers)
        deployment = deploy(settings)
        env = {
            **os.environ,
            "ESG_ENV": "test",
            "ESG_RPC_URL": node.url,
            "ESG_DATA_DIR": str(work),
            "ESG_API_PORT": str(port),
            "ESG_API_WORKERS": str(workers),
            "ESG_RESIDENT_RATE_PER_MINUTE": "0",
            "ESG_RELAYER_COUNT": str(relayers),
            "ESG_RELAYER_MAX_IN_FLIGHT": str(max_in_flight),
        }
        server = _start_server(work, env, port)
        watcher = MirrorWatcher(db, deployment.chain_id, tables)
        watcher.start()
        phases = 3 if rate > 0 else 2
        setup_actions = 0
        if mix:
            load = _mix.MixLoad(
                deployment,
                node.url,
                settings.deployer(),
                residents=residents,
                per_resident=per_resident,
                phases=phases,
                log=log,
            )
            setup_actions = _set_up_mix(load, port, watcher, batch_size, timeout, log)
        after_setup = last_relay_tx(db)

        cores = cpu_capacity()
        log(f"the machine gives {cores} cores right now")
        log(f"signing {phases * residents * per_resident} actions")
        if load is not None:
            sets = load.phase_sets(load.item_ids())
        else:
            sets = [
                sign_actions(deployment=deployment, residents=residents, per_resident=per_resident, seed=seed)
                for seed in range(1, phases + 1)
            ]
        paced = sets.pop(0) if rate > 0 else []
        single, batched = sets
        assert node.process is not None
        meter = CpuMeter(server.pid, node.process.pid)
        figures: dict[str, Any] = {}
        cpu: dict[str, dict[str, float]] = {}

        def latencies(sent: dict[str, float], name: str) -> list[float]:
            e2e = [(watcher.seen[d] - sent[d]) * 1000 for d in sent if d in watcher.seen]
            if keep is not None:  # each action's send time and latency, for looking at the tail
                t0 = min(sent.values())
                with open(work / f"e2e-{name}.csv", "w") as f:
                    f.write("sent_s,e2e_ms\n")
                    f.writelines(
                        f"{sent[d] - t0:.3f},{(watcher.seen[d] - sent[d]) * 1000:.0f}\n"
                        for d in sent
                        if d in watcher.seen
                    )
            return e2e

        if paced:
            log(f"phase 1: {len(paced)} actions, one per POST, offered at {rate:g}/s")
            before = meter.read()
            sent_p = asyncio.run(_post_paced(port, paced, rate, max(concurrency, 64)))
            wait_seen(watcher, [a.digest for a in paced], timeout)
            cpu["paced"] = CpuMeter.per_action(before, meter.read(), len(paced))
            e2e_p = latencies(sent_p, "paced")
            offered_s = max(sent_p.values()) - min(sent_p.values())
            figures |= {
                "rate_offered_per_s": rate,
                "confirmed_per_s_paced": round(
                    len(paced) / (max(watcher.seen.get(d, 0.0) for d in sent_p) - min(sent_p.values())), 1
                ),
                "offered_over_s": round(offered_s, 1),
                "e2e_p50_ms": round(_percentile(e2e_p, 0.50)),
                "e2e_p99_ms": round(_percentile(e2e_p, 0.99)),
                "e2e_max_ms": round(max(e2e_p, default=float("nan"))),
            }

        log(f"phase {phases - 1}: {len(single)} actions, one per POST, {concurrency} connections")
        before = meter.read()
        t0 = time.monotonic()
        sent = asyncio.run(_post_each(port, single, concurrency))
        accept_s = time.monotonic() - t0
        wait_seen(watcher, [a.digest for a in single], timeout)
        cpu["saturated"] = CpuMeter.per_action(before, meter.read(), len(single))
        e2e = latencies(sent, "saturated")
        last_seen = max((watcher.seen.get(a.digest, 0.0) for a in single), default=t0)
        confirmed_s = last_seen - t0

        log(f"phase {phases}: {len(batched)} actions, {batch_size} per POST /v1/actions/batch")
        before = meter.read()
        t1 = time.monotonic()
        sent_b = asyncio.run(_post_batches(port, batched, batch_size, max(1, concurrency // 8)))
        accept_b_s = time.monotonic() - t1
        wait_seen(watcher, [a.digest for a in batched], timeout)
        cpu["batched"] = CpuMeter.per_action(before, meter.read(), len(batched))
        e2e_b = latencies(sent_b, "batched")
        watcher.stop()

        rpc = HttpRpc(node.url)
        chain = chain_counts(rpc, deployment, kinds)
        rows = mirror_rows(db, tables)
        timed = paced + single + batched
        lost = sum(1 for a in timed if chain[a.digest] == 0 or a.digest not in watcher.seen)
        duplicated = sum(1 for a in timed if chain[a.digest] > 1 or rows[a.digest] > 1)
        confirmed = Counter(a.kind for a in timed if chain[a.digest] >= 1 and rows[a.digest] >= 1)
        gas = gas_by_kind(rpc, db, kinds, after=after_setup)
        rpc.close()
        used, actions, transactions = (sum(g[i] for g in gas.values()) for i in range(3))
        per_action = used / actions if actions else None
        return {
            "method": (
                "real HTTP to `esg-ledger serve` (SQLite, "
                f"{workers} worker{'s' if workers > 1 else ''}), anvil with 1 s blocks and 30M gas; "
                + (
                    "a mix of 70% plogging, 15% feedback, 10% support, 2.5% redemption, 2.5% donation "
                    "after an untimed set-up (a session per resident, partner, cause, feedback items); "
                    if mix
                    else "plogging sessions; "
                )
                + "each action timed from its POST to its row in the SQL mirror; e2e_* at a paced "
                "offered rate, accepted/confirmed at saturation; see docs/benchmarks.md"
            ),
            "mix": {k: n / len(_mix.PATTERN) for k, n in _mix.SHARES.items()} if mix else {"plogging": 1.0},
            "actions": len(single),
            "residents": residents,
            "accepted_per_s": round(len(single) / accept_s, 1),
            "accepted_per_s_batched": round(len(batched) / accept_b_s, 1),
            "confirmed_per_s": round(len(single) / confirmed_s, 1),
            **figures,
            "saturated_e2e_p50_ms": round(_percentile(e2e, 0.50)),
            "saturated_e2e_p99_ms": round(_percentile(e2e, 0.99)),
            "batched_e2e_p50_ms": round(_percentile(e2e_b, 0.50)),
            "batched_e2e_p99_ms": round(_percentile(e2e_b, 0.99)),
            "lost": lost,
            "duplicated": duplicated,
            "per_kind_actions": dict(Counter(a.kind for a in timed)),
            "per_kind_confirmed": {k: confirmed[k] for k in kinds},
            "setup_actions": setup_actions,
            "transactions": transactions,
            "gas_per_action": round(per_action) if per_action else None,
            "per_kind_gas_per_action": {k: round(g / n) if n else None for k, (g, n, _) in gas.items()},
            "per_kind_actions_per_tx": {k: round(n / t, 1) if t else None for k, (_, n, t) in gas.items()},
            "confirmed_ceiling_per_s": round(30_000_000 / per_action) if per_action else None,
            "signature_backend": "coincurve",
            "cpu_cores_available": cores,
            "cpu_ms_per_action": cpu,
            "concurrency": concurrency,
            "relayer_keys": relayers,
            "max_in_flight_per_key": max_in_flight,
            "batch_size": batch_size,
        }
    finally:
        if load is not None:
            load.close()
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        node.stop()
