"""`esg-ledger verify record|balance|redemption|bundle|check`: a partner's checks against a node alone.

`esg-ledger verify <digest | address> [--api URL]` (the older form) still works: a digest is
`verify record`, an address `verify balance`, both printing JSON.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from ledger.chain.rpc import HttpRpc
from ledger.deploy import Deployment
from ledger.errors import LedgerError
from ledger.settings import get_settings

_DIGEST = re.compile(r"0x[0-9a-fA-F]{64}")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


class _VerifyGroup(TyperGroup):
    """Routes the older `verify <digest | address>` form to `record` / `balance`."""

    def resolve_command(self, ctx: Any, args: list[str]) -> tuple[str | None, Any, list[str]]:
        if args and args[0] not in self.commands:
            if _DIGEST.fullmatch(args[0]):
                args = ["record", *args, "--json"]
            elif _ADDRESS.fullmatch(args[0]):
                args = ["balance", *args, "--json"]
        return super().resolve_command(ctx, args)


verify_app = typer.Typer(
    cls=_VerifyGroup,
    no_args_is_help=True,
    help="Check records, balances and proof bundles on-chain, trusting neither the city's database nor API.",
)
console = Console(stderr=True)

RpcOption = Annotated[str | None, typer.Option("--rpc", help="The node to ask (default: ESG_RPC_URL).")]
ApiOption = Annotated[
    str | None,
    typer.Option(
        help="The city's API: its published deployment if there is no manifest, and its claims to compare."
    ),
]
DeploymentOption = Annotated[
    Path | None,
    typer.Option("--deployment", help="A deployment JSON (a manifest, or what GET /v1/deployment answers)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a line.")]
DepthOption = Annotated[
    int | None, typer.Option("--depth", help="Finality depth (default: ESG_FINALITY_DEPTH).")
]


def _fail(message: str, code: int = 1) -> typer.Exit:
    console.print(f"[red]{message}[/red]")
    return typer.Exit(code)


def _print(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


def _deployment_from(data: dict[str, Any]) -> Deployment:
    from ledger.verify import as_deployment

    if "chain_id" in data:  # a manifest as `esg-ledger deploy` writes it
        return _manifest(data)
    return as_deployment(data)


def _manifest(raw: dict[str, Any]) -> Deployment:
    from ledger.deploy import DeployedContract

    contracts = {n: DeployedContract(**c) for n, c in raw["contracts"].items()}
    return Deployment(**{**raw, "contracts": contracts})


def _context(rpc_url: str | None, api: str | None, path: Path | None) -> tuple[HttpRpc, Deployment]:
    """The node, and the deployment: a given file, this chain's manifest, or the API's published one."""
    import httpx

    from ledger.deploy import manifest_path

    settings = get_settings()
    rpc = HttpRpc(rpc_url or settings.rpc)
    try:
        if path is not None:
            return rpc, _deployment_from(json.loads(path.read_text()))
        chain_id = int(rpc.call("eth_chainId"), 16)
        manifest = manifest_path(settings, chain_id)
        if manifest.exists():
            return rpc, Deployment.load(manifest)
        if api:
            deployment = Deployment.from_public(httpx.get(f"{api}/v1/deployment", timeout=30).json())
            console.print(
                f"contracts as published by {api}: "
                + ", ".join(f"{n} {c.address}" for n, c in deployment.contracts.items())
            )
            return rpc, deployment
    except (LedgerError, OSError, ValueError, httpx.HTTPError) as exc:
        raise _fail(f"cannot read the deployment: {exc}", 2) from None
    raise _fail(f"no deployment manifest at {manifest}; pass --api URL or --deployment FILE", 2)


def _depth(depth: int | None) -> int:
    return depth if depth is not None else get_settings().finality_depth


@verify_app.command("record")
def record(
    digest: Annotated[str, typer.Argument(help="The action's id: its EIP-712 digest.")],
    kind: Annotated[str | None, typer.Option(help="Only look for this kind.")] = None,
    depth: DepthOption = None,
    rpc_url: RpcOption = None,
    api: ApiOption = None,
    deployment_file: DeploymentOption = None,
    as_json: JsonOption = False,
) -> None:
    """A record of any kind by its digest, with its current status; exit 1 if absent or the API disagrees."""
    import httpx

    from ledger.verify import find_record

    rpc, deployment = _context(rpc_url, api, deployment_file)
    try:
        found = find_record(rpc, deployment, digest, kind=kind, finality_depth=_depth(depth))
    except LedgerError as exc:
        raise _fail(str(exc), 2) from None
    agree = found.found
    if as_json:
        _print(found.as_json())
    elif found.found:
        hidden = " (hidden)" if found.item and found.item.get("hidden") else ""
        typer.echo(
            f"{found.kind} {found.digest}: {found.status}{hidden} · block {found.block_number} "
            f"({found.block_hash}) tx {found.tx_hash} log {found.log_index} · {found.confirmations} "
            f"confirmations, {'final' if found.final else 'not final'} at depth {found.finality_depth}"
        )
    else:
        refused = "; ".join(f["reason"] for f in found.failures)
        typer.echo(f"{found.digest}: no record on chain" + (f" (refused: {refused})" if refused else ""))
    if api:
        claim = httpx.get(f"{api}/v1/actions/{digest}", timeout=30).json()
        claimed = claim.get("status") == "confirmed"
        agree = claimed == found.found and (
            not claimed or (claim["blockNumber"], claim["logIndex"]) == (found.block_number, found.log_index)
        )
        typer.echo(
            f"API says {claim.get('status')} at block {claim.get('blockNumber')}: "
            + ("agrees" if agree else "DISAGREES")
        )
    if not agree:
        raise typer.Exit(1)


@verify_app.command("balance")
def balance(
    address: Annotated[str, typer.Argument(help="A resident's (or anyone's) address.")],
    block: Annotated[str, typer.Option(help="A block number or tag.")] = "latest",
    claimed: Annotated[int | None, typer.Option(help="Compare with this claimed balance.")] = None,
    rpc_url: RpcOption = None,
    api: ApiOption = None,
    deployment_file: DeploymentOption = None,
    as_json: JsonOption = False,
) -> None:
    """A token balance at a block, as the token contract reports it; exit 1 if a claim disagrees."""
    import httpx

    from ledger.verify import balance_at

    rpc, deployment = _context(rpc_url, api, deployment_file)
    if claimed is None and api:
        claimed = int(httpx.get(f"{api}/v1/residents/{address}", timeout=30).json()["balance"])
    try:
        at: int | str = int(block, 0) if block[:1].isdigit() else block
        result = balance_at(rpc, deployment, address, block=at, claimed=claimed)
    except (LedgerError, ValueError) as exc:
        raise _fail(str(exc), 2) from None
    if as_json:
        _print(result.as_json())
    else:
        typer.echo(
            f"{result.address}: {result.balance} points at block {result.block_number} ({result.block_hash})"
        )
    if result.claimed is not None:
        typer.echo(f"claimed {result.claimed}: " + ("agrees" if result.agrees else "DISAGREES"))
        if not result.agrees:
            raise typer.Exit(1)


@verify_app.command("redemption")
def redemption(
    digest: Annotated[str, typer.Argument(help="The redemption's id: its EIP-712 digest.")],
    depth: DepthOption = None,
    rpc_url: RpcOption = None,
    api: ApiOption = None,
    deployment_file: DeploymentOption = None,
    as_json: JsonOption = False,
) -> None:
    """A redemption, its partner and amount, and whether the partner was registered and unexpired then."""
    from ledger.verify import verify_redemption

    rpc, deployment = _context(rpc_url, api, deployment_file)
    try:
        result = verify_redemption(rpc, deployment, digest, finality_depth=_depth(depth))
    except LedgerError as exc:
        raise _fail(str(exc), 2) from None
    if as_json:
        _print(result.as_json())
    elif not result.record.found:
        typer.echo(f"{digest}: no redemption on chain")
    else:
        r = result.record
        typer.echo(
            f"redemption {r.digest}: {result.amount} points at partner {result.partner} "
            f"({'burned' if result.burned else 'transferred'}) · block {r.block_number} tx {r.tx_hash} · "
            f"partner {'registered' if result.registered else 'NOT registered'}, "
            f"{'unexpired' if result.unexpired else 'EXPIRED'} (expires at {result.expires_at}, "
            f"block time {result.block_timestamp}) · {r.confirmations} confirmations"
        )
    if not result.valid:
        raise typer.Exit(1)


@verify_app.command("bundle")
def bundle(
    digest: Annotated[str, typer.Argument(help="The action's id: its EIP-712 digest.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the bundle (JSON).")],
    kind: Annotated[str | None, typer.Option(help="Only look for this kind.")] = None,
    rpc_url: RpcOption = None,
    api: ApiOption = None,
    deployment_file: DeploymentOption = None,
) -> None:
    """Write a proof bundle of a record that anyone can check later, offline or against any node."""
    from ledger.verify import make_bundle

    rpc, deployment = _context(rpc_url, api, deployment_file)
    try:
        made = make_bundle(rpc, deployment, digest, kind=kind)
    except LedgerError as exc:
        raise _fail(str(exc)) from None
    out.write_text(json.dumps(made, indent=2) + "\n")
    header = made["record"]["header"]
    typer.echo(
        f"{made['kind']} {made['digest']} ({made['status']}): block {int(header['number'], 16)} "
        f"{header['hash']}, {len(made['later'])} later events; written to {out}"
    )


@verify_app.command("check")
def check(
    path: Annotated[Path, typer.Argument(help="A bundle written by `verify bundle`.")],
    rpc_url: Annotated[
        str | None, typer.Option("--rpc", help="Also check the block is on this node's canonical chain.")
    ] = None,
    deployment_file: DeploymentOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check a proof bundle: header hash, inclusion proofs, the log and its record, the chain id; with
    --rpc, that the block is canonical on that node. Exit 1 if the bundle is refused."""
    from ledger.verify import BundleError, check_bundle

    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise _fail(f"cannot read {path}: {exc}", 2) from None
    deployment = None
    if deployment_file is not None:
        deployment = _deployment_from(json.loads(deployment_file.read_text()))
    rpc = HttpRpc(rpc_url) if rpc_url else None
    try:
        report = check_bundle(data, rpc, deployment=deployment)
    except BundleError as exc:
        if as_json:
            _print({"ok": False, "reason": exc.reason, "error": str(exc)})
        else:
            typer.echo(f"REFUSED ({exc.reason}): {exc}")
        raise typer.Exit(1) from None
    except LedgerError as exc:
        raise _fail(f"could not check: {exc}", 2) from None
    if as_json:
        _print({"ok": True, **report.as_json()})
        return
    where = "canonical on the node" if report.canonical else "offline: canonicality NOT checked"
    typer.echo(
        f"OK {report.kind} {report.digest}: {report.status} · chain {report.chain_id} block "
        f"{report.block_number} ({report.block_hash}) tx {report.tx_hash} log {report.log_index} · {where}"
    )
    for item in report.checked:
        typer.echo(f"  ✓ {item}")
    for item in report.not_checked:
        typer.echo(f"  - not checked: {item}")
