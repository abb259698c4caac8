"""The public edge against a real server: rate limits (per IP, per credential, prepare included),
CORS, request ids, JSON logs without secrets, /metrics, and health from the jobs' state."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ledger.deploy import Deployment
from ledger.node import AnvilNode

from ..support import Resident, Server, error_of, free_port, plogging_payload, wait_until

PLATFORM_TOKEN = "pt_" + os.urandom(24).hex()
METRICS_TOKEN = "mt_" + os.urandom(24).hex()
PASSWORD = "pw-" + os.urandom(12).hex()
ORIGIN = "https://metaverse.example"


@pytest.fixture(scope="module")
def edge(anvil: AnvilNode, data_dir: Path, deployment: Deployment) -> Iterator[Server]:
    srv = Server(
        rpc_url=anvil.url,
        data_dir=data_dir,
        # 127.0.0.1 is the proxy: requests name their client in X-Forwarded-For. The server's own
        # start-up polls come without one and are exempt; every other address is limited.
        ESG_TRUSTED_PROXIES='["127.0.0.1"]',
        ESG_RATE_LIMIT_EXEMPT='["127.0.0.1/32"]',
        ESG_RATE_LIMIT_IP="4/hour",
        ESG_RATE_LIMIT_CLIENT="2/hour",
        ESG_RATE_LIMIT_STRATEGY="moving",  # exact: no window boundary can let a fifth request through
        ESG_CORS_ORIGINS=json.dumps([ORIGIN]),
        ESG_METRICS_TOKEN=METRICS_TOKEN,
        ESG_PLATFORM_TOKENS=json.dumps([PLATFORM_TOKEN]),
        ESG_CUSTODY_MASTER_KEY=os.urandom(32).hex(),
        ESG_LOG_FORMAT="json",
        ESG_ACCESS_LOG="true",
    ).start()
    yield srv
    srv.stop()


def _from(ip: str, **headers: str) -> dict[str, str]:
    return {"X-Forwarded-For": ip, **headers}


def _prepare(client: httpx.Client, ip: str) -> httpx.Response:
    body = {"kind": "plogging", "resident": Resident().address, "payload": plogging_payload()}
    return client.post("/v1/actions/prepare", json=body, headers=_from(ip))


def _assert_limited(r: httpx.Response, limit: int) -> None:
    assert r.status_code == 429, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert error_of(r)["code"] == "rate_limited"
    assert int(r.headers["Retry-After"]) >= 1
    assert r.headers["RateLimit-Limit"] == str(limit)
    assert r.headers["RateLimit-Remaining"] == "0"


def test_prepare_is_limited_per_ip_and_other_ips_are_not(edge: Server) -> None:
    with edge.client() as client:
        for _ in range(4):
            assert _prepare(client, "203.0.113.7").status_code == 200
        _assert_limited(_prepare(client, "203.0.113.7"), 4)
        _assert_limited(client.get("/v1/deployment", headers=_from("203.0.113.7")), 4)  # every route
        assert _prepare(client, "203.0.113.8").status_code == 200
        # The client is the nearest untrusted hop: a spoofed first hop does not pick the bucket.
        spoofed = client.get("/v1/deployment", headers=_from("10.9.9.9, 203.0.113.7"))
        assert spoofed.status_code == 429


def test_reads_are_limited_per_ip(edge: Server) -> None:
    with edge.client() as client:
        for _ in range(4):
            assert client.get("/v1/deployment", headers=_from("198.51.100.20")).status_code == 200
        _assert_limited(client.get("/v1/deployment", headers=_from("198.51.100.20")), 4)
        assert client.get("/v1/deployment", headers=_from("198.51.100.21")).status_code == 200


def test_the_lean_reads_are_limited_and_counted_by_route_template(edge: Server) -> None:
    """The lean read path (api/readpath.py) sits inside the edge: limits and metrics still apply."""
    address = Resident().address
    with edge.client() as client:
        ip = "198.51.100.40"
        for path in (f"/v1/residents/{address}", "/v1/feedback?limit=1", f"/v1/residents/{address}"):
            assert client.get(path, headers=_from(ip)).status_code == 200
        assert client.get("/v1/actions/0x" + "ab" * 32, headers=_from(ip)).status_code == 404
        _assert_limited(client.get(f"/v1/residents/{address}", headers=_from(ip)), 4)
        _assert_limited(client.get("/v1/feedback", headers=_from(ip)), 4)
        text = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
    assert 'esg_http_requests_total{method="GET",route="/v1/feedback",status="200"}' in text
    assert 'route="/v1/actions/{action_id}",status="404"' in text


def test_a_credential_has_its_own_limit(edge: Server) -> None:
    with edge.client() as client:
        ip = "198.51.100.30"
        first = {"Authorization": "Bearer client-one-" + os.urandom(8).hex()}
        for _ in range(2):
            assert client.get("/v1/deployment", headers=_from(ip, **first)).status_code == 200
        _assert_limited(client.get("/v1/deployment", headers=_from(ip, **first)), 2)
        other = {"Authorization": "Bearer client-two-" + os.urandom(8).hex()}
        assert client.get("/v1/deployment", headers=_from(ip, **other)).status_code == 200


def test_cors_allows_the_configured_origin_only(edge: Server) -> None:
    with edge.client() as client:
        preflight = {"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}
        allowed = client.options("/v1/actions/prepare", headers=preflight)
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == ORIGIN
        assert "access-control-allow-credentials" not in allowed.headers  # not asked for
        refused = client.options(
            "/v1/actions/prepare", headers={**preflight, "Origin": "https://evil.example"}
        )
        assert "access-control-allow-origin" not in refused.headers
        simple = client.get("/v1/deployment", headers={"Origin": ORIGIN})
        assert simple.headers["access-control-allow-origin"] == ORIGIN
        assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()


def test_request_ids_are_kept_when_well_formed_and_replaced_otherwise(edge: Server) -> None:
    with edge.client() as client:
        kept = client.get("/v1/deployment", headers={"X-Request-ID": "trace-42.a:b_c"})
        assert kept.headers["x-request-id"] == "trace-42.a:b_c"
        replaced = client.get("/v1/deployment", headers={"X-Request-ID": "no spaces, please" + "x" * 200})
        assert replaced.headers["x-request-id"] != "no spaces, please"
        assert len(replaced.headers["x-request-id"]) == 32
        assert client.get("/v1/deployment").headers["x-request-id"]  # one is made when none is sent


def test_logs_are_json_lines_with_the_request_id_and_no_secrets(edge: Server) -> None:
    request_id = "edge-log-" + os.urandom(6).hex()
    with edge.client() as client:
        client.post(
            "/v1/custody/wallets",
            json={"subject": "resident-1"},
            headers={"Authorization": f"Bearer {PLATFORM_TOKEN}", "X-Request-ID": request_id},
        )
        client.post(
            "/v1/staff/login",
            json={"login": "nobody", "password": PASSWORD, "totp": "123456"},
            headers={"X-Request-ID": request_id},
        )
        client.get(
            f"/v1/deployment?token={PLATFORM_TOKEN}&password={PASSWORD}", headers={"X-Request-ID": request_id}
        )
        client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})

    def ours() -> list[dict[str, Any]]:
        found = [json.loads(line) for line in edge.log.read_text().splitlines() if request_id in line]
        return found if sum(line["logger"] == "esg.access" for line in found) >= 3 else []

    lines = wait_until(ours, 10, "the access log lines of our requests")  # each line is one JSON object
    assert all(line["request_id"] == request_id and line["level"] and line["time"] for line in lines)
    served = [line for line in lines if line["logger"] == "esg.access"]
    assert {line["route"] for line in served} == {"/v1/custody/wallets", "/v1/staff/login", "/v1/deployment"}
    assert all("?" not in line["path"] for line in served)  # never a query string
    text = edge.log.read_text()
    for secret in (PLATFORM_TOKEN, METRICS_TOKEN, PASSWORD):
        assert secret not in text


def test_metrics_need_the_token_and_label_by_route_template(edge: Server) -> None:
    address = Resident().address
    nowhere = "/v1/nowhere-" + os.urandom(4).hex()
    with edge.client() as client:
        wait_until(lambda: client.get("/healthz").json()["status"] == "ok", 15, "the jobs' first runs")
        client.get(f"/v1/residents/{address}")
        assert client.get(nowhere).status_code == 404
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        r = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert 'esg_http_requests_total{method="GET",route="/v1/residents/{address}",status="200"}' in text
    assert address not in text  # the template, never the raw path
    assert 'route="unmatched",status="404"' in text and nowhere not in text
    for name in (
        "esg_http_request_duration_seconds_bucket",
        "esg_accept_queue_depth",
        "esg_outbox_actions",
        "esg_relayer_transactions_in_flight",
        "esg_relayer_balance_eth",
        "esg_indexer_lag_blocks",
        "esg_action_failures",
        'esg_health{check="database",code="ok"} 0.0',
        "process_cpu_seconds_total",
    ):
        assert name in text, name


# -- health from the jobs' state, on a node of its own that the test stops ------------------------


@pytest.fixture
def own_node(tmp_path: Path) -> Iterator[tuple[AnvilNode, Server]]:
    node = AnvilNode(port=free_port(), block_time=0).start()
    srv = Server(rpc_url=node.url, data_dir=tmp_path).start()
    try:
        yield node, srv
    finally:
        srv.stop()
        node.stop()


def test_health_is_coded_from_the_jobs_state_and_shows_no_internal_text(
    own_node: tuple[AnvilNode, Server],
) -> None:
    node, srv = own_node
    with srv.client() as client:
        # 200 (degraded: job_starting) may come before each job's first run has ended; then ok.
        body = wait_until(lambda: (h := client.get("/healthz").json())["status"] == "ok" and h, 15, "ok")
        assert set(body["checks"]) == {"database", "jobs", "chain", "indexer", "relayer"}
        assert all(c == {"status": "ok", "code": "ok"} for c in body["checks"].values())
        assert client.get("/metrics").status_code == 200  # no token set: this host may scrape
        assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.1"}).status_code == 403
        assert (
            "access-control-allow-origin"
            not in client.get("/v1/deployment", headers={"Origin": ORIGIN}).headers
        )

        node.stop()

        def down() -> dict[str, Any] | None:
            r = client.get("/healthz")
            return r.json() if r.status_code == 503 else None

        body = wait_until(down, 30, "/healthz to say the node is down")
    assert body["status"] == "down"
    assert body["checks"]["chain"] == {"status": "down", "code": "node_unreachable"}
    assert body["checks"]["database"]["code"] == "ok"
    raw = json.dumps(body)
    assert "Error" not in raw and "refused" not in raw.lower() and node.url not in raw
