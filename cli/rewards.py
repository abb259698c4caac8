"""`esg-ledger rewards`: publish a campaign's bonus tree (and post its root), show a published one."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from ledger.errors import LedgerError
from ledger.settings import get_settings

rewards_app = typer.Typer(no_args_is_help=True, help="Campaign bonuses: Merkle trees of residents' amounts.")
console = Console(stderr=True)

CampaignOption = Annotated[int, typer.Option("--campaign", min=1, help="The campaign's on-chain id.")]


def _fail(message: str, code: int = 1) -> typer.Exit:
    console.print(f"[red]{message}[/red]")
    return typer.Exit(code)


def _amount(text: Any, where: str) -> int:
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    if isinstance(text, str) and text.strip().isdigit():
        return int(text.strip())
    raise _fail(f"{where}: the amount must be a whole number of points, got {text!r}", 2)


class _Pairs(list[tuple[str, Any]]):
    """A JSON object's members in file order, repeats kept (json.load would keep only the last)."""


class _Allocation:
    def __init__(self) -> None:
        self.amounts: dict[str, int] = {}
        self._seen: set[str] = set()

    def add(self, address: Any, amount: Any, where: str) -> None:
        key = str(address).strip()
        if key.lower() in self._seen:
            raise _fail(f"{where}: {key} is listed twice", 2)
        self._seen.add(key.lower())
        self.amounts[key] = _amount(amount, f"{where}, {key}")


def read_allocations(path: Path) -> dict[str, int]:
    """`{address: amount}` from a JSON object, or from CSV rows `address,amount` (a header row may
    name the columns). Amounts may be JSON numbers or decimal strings; a repeated address is refused."""
    out = _Allocation()
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".json":
        try:
            pairs = json.loads(text, object_pairs_hook=_Pairs)
        except json.JSONDecodeError as exc:
            raise _fail(f"{path}: not JSON ({exc})", 2) from None
        if not isinstance(pairs, _Pairs):
            raise _fail(f"{path}: expected a JSON object of address → amount", 2)
        for address, amount in pairs:
            out.add(address, amount, str(path))
        return out.amounts
    for line, row in enumerate(csv.reader(text.splitlines()), start=1):
        if not "".join(row).strip():
            continue
        if len(row) != 2:
            raise _fail(f"{path}:{line}: expected two columns, address and amount", 2)
        address, amount = row
        if line == 1 and not amount.strip().isdigit() and not address.strip().startswith("0x"):
            continue  # a header
        out.add(address, amount, f"{path}:{line}")
    return out.amounts


@rewards_app.command("publish")
def publish(
    campaign: CampaignOption,
    allocations: Annotated[
        Path,
        typer.Option(exists=True, dir_okay=False, help="{address: amount} as JSON, or address,amount CSV."),
    ],
    rule: Annotated[
        str | None,
        typer.Option(
            help="How the amounts were computed (kept with the tree); default: the file's name and hash."
        ),
    ] = None,
    post: Annotated[
        bool, typer.Option("--post", help="Also send the root on chain (setCampaignBonus, deployer key).")
    ] = False,
) -> None:
    """Publish a campaign's bonus tree from an allocation file; with --post, set its root on chain."""
    from cli.main import _context
    from ledger.bonus import post_root, publish_tree
    from ledger.db import session_scope

    settings = get_settings()
    amounts = read_allocations(allocations)
    digest = hashlib.sha256(allocations.read_bytes()).hexdigest()
    rule = rule or f"allocation file {allocations.name} (sha256 {digest})"
    _rpc, deployment, engine = _context(settings)
    try:
        with session_scope(engine) as session:
            tree = publish_tree(
                session=session,
                chain_id=deployment.chain_id,
                campaign_id=campaign,
                allocations=amounts,
                rule=rule,
            )
        console.print(
            f"campaign {campaign}: root {tree.root}, total {tree.total}, {tree.leaf_count} residents"
        )
        if post:
            tree = post_root(
                engine=engine,
                deployment=deployment,
                signer=settings.deployer(),
                rpc_url=settings.rpc,
                campaign_id=campaign,
            )
            console.print(f"on chain: {tree.posted_tx_hash or 'already set (nothing sent)'}")
    except LedgerError as exc:
        raise _fail(str(exc)) from None


@rewards_app.command("show")
def show(campaign: CampaignOption) -> None:
    """Show a campaign's published bonus tree: root, total and every resident's amount."""
    from cli.main import _context
    from ledger.bonus import get_tree, leaves
    from ledger.db import read_scope

    _rpc, deployment, engine = _context(get_settings())
    with read_scope(engine) as session:
        tree = get_tree(session=session, chain_id=deployment.chain_id, campaign_id=campaign)
        rows = leaves(session=session, chain_id=deployment.chain_id, campaign_id=campaign) if tree else []
    if tree is None:
        raise _fail(f"campaign {campaign} has no published bonus tree on chain {deployment.chain_id}")
    out = Console()
    out.print(f"campaign {campaign} on chain {deployment.chain_id}")
    out.print(f"root   {tree.root}")
    out.print(f"total  {tree.total} points to {tree.leaf_count} residents")
    out.print(f"rule   {tree.rule}")
    out.print(f"posted {tree.posted_tx_hash or 'not yet (esg-ledger rewards publish --post)'}")
    table = Table()
    table.add_column("resident")
    table.add_column("amount", justify="right")
    for leaf in rows:
        table.add_row(leaf.resident, str(leaf.amount))
    out.print(table)


# --- distribute: the bonus computed from the mirror by a rule, its root posted by a campaign manager


RuleOption = Annotated[
    str,
    typer.Option(
        help="pro-rata or equal, optionally :metric (trash_grams, distance_meters, sessions, "
        "accepted_feedback); default: pro-rata over the campaign's own metric."
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _staff_key(path: Path, password_file: Path | None) -> Any:
    """A staff member's key from a file: a hex private key, or an encrypted JSON keystore."""
    from eth_account import Account

    text = path.read_text(encoding="utf-8").strip()
    try:
        if text.startswith("{"):
            password = (
                password_file.read_text(encoding="utf-8").rstrip("\n")
                if password_file
                else typer.prompt("keystore password", hide_input=True)
            )
            return Account.from_key(Account.decrypt(json.loads(text), password))
        return Account.from_key(text)
    except (ValueError, TypeError) as exc:
        raise _fail(f"{path}: not a private key or a keystore this password opens ({exc})", 2) from None


def _queue_staff_call(
    engine: Any, rpc: Any, deployment: Any, signer: Any, function: str, args: list[Any]
) -> str:
    """`signer`'s own call, as the API makes a custodial member's: a ForwardRequest prepared (refused
    if the chain would revert it), signed with their key, verified and queued for the relayer."""
    import time

    from eth_account.messages import encode_typed_data

    from ledger.db import read_scope, session_scope
    from ledger.staff_actions import accept_call, prepare_call, verify_call

    contracts = {name: c.address for name, c in deployment.contracts.items()}
    now = int(time.time())
    with read_scope(engine) as session:
        typed = prepare_call(
            session=session,
            rpc=rpc,
            chain_id=deployment.chain_id,
            contracts=contracts,
            abis={name: c.abi for name, c in deployment.contracts.items()},
            staff=signer.address,
            contract="CommunityRewards",
            function=function,
            args=args,
            now=now,
            ttl=get_settings().action_ttl,
        )
    signature = signer.sign_message(encode_typed_data(full_message=typed)).signature.to_0x_hex()
    action = verify_call(typed, signature, chain_id=deployment.chain_id, contracts=contracts, now=now)
    with session_scope(engine) as session:
        return accept_call(session=session, action=action).id


def _wait_confirmed(engine: Any, action_id: str, seconds: float) -> str:
    import time

    from ledger.db import read_scope
    from ledger.models import Action

    deadline = time.monotonic() + seconds
    while True:
        with read_scope(engine) as session:
            row = session.get(Action, action_id)
            status, error = (row.status, row.error) if row is not None else ("missing", None)
        if status in ("confirmed", "failed") or time.monotonic() >= deadline:
            return f"{status}: {error}" if error else str(status)
        time.sleep(0.5)


def _distribution_json(d: Any) -> dict[str, Any]:
    return {
        "campaignId": d.terms.campaign_id,
        "rule": d.rule_text,
        "pool": d.pool,
        "snapshotBlock": d.terms.snapshot()[0],
        "root": d.root,
        "total": sum(d.allocations.values()),
        "contributors": [
            {"resident": r, "contribution": d.weights[r], "amount": d.allocations.get(r, 0)}
            for r in sorted(d.weights)
        ],
    }


def _print_distribution(d: Any) -> None:
    out = Console()
    out.print(f"campaign {d.terms.campaign_id}: {d.rule_text}")
    out.print(f"root   {d.root}")
    out.print(f"total  {sum(d.allocations.values())} points to {len(d.allocations)} residents")
    table = Table()
    for column in ("resident", f"{d.rule.metric}", "amount"):
        table.add_column(column, justify="left" if column == "resident" else "right")
    for r in sorted(d.weights):
        table.add_row(r, str(d.weights[r]), str(d.allocations.get(r, 0)))
    out.print(table)


@rewards_app.command("distribute")
def distribute(
    campaign: CampaignOption,
    pool: Annotated[int, typer.Option(min=1, help="The points to split (the bonus total set on chain).")],
    rule: RuleOption = "pro-rata",
    key_file: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="The campaign manager's key (hex, or a JSON keystore): they sign setCampaignBonus.",
        ),
    ] = None,
    password_file: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="The keystore's password.")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Compute and print; publish nothing.")] = False,
    wait: Annotated[
        float, typer.Option(min=0, help="Seconds to wait for the relayer to confirm the root (0: don't).")
    ] = 120.0,
    as_json: JsonOption = False,
) -> None:
    """Compute each contributor's bonus from the mirror by a rule, publish the tree, and post its root
    signed by the campaign manager (a staff call the relayer sends)."""
    from cli.main import _context
    from indexer.bonus_contributions import campaign_distribution
    from ledger.bonus_rules import parse_rule
    from ledger.db import read_scope

    settings = get_settings()
    rpc, deployment, engine = _context(settings)
    signer = None if dry_run or key_file is None else _staff_key(key_file, password_file)
    if not dry_run and signer is None:
        raise _fail("give --key-file (the campaign manager signs the root), or --dry-run", 2)
    try:
        parsed, stated = parse_rule(rule)
        if stated is not None and stated != pool:
            raise _fail(f"--rule says pool={stated}, --pool says {pool}", 2)
        with read_scope(engine) as session:
            d = campaign_distribution(
                session.connection(),
                chain_id=deployment.chain_id,
                campaign_id=campaign,
                rule=parsed,
                pool=pool,
            )
        report = _distribution_json(d) | {"published": False, "actionId": None, "outcome": None}
        if not as_json:
            _print_distribution(d)
        try:
            if not dry_run and signer is not None:
                _publish_and_post(engine, rpc, deployment, signer, d, wait, report)
        finally:
            if as_json:
                typer.echo(json.dumps(report, indent=2))
    except LedgerError as exc:
        raise _fail(str(exc)) from None
    done = (None, "on chain already", "confirmed") + (("queued",) if wait == 0 else ())
    if report["outcome"] not in done:  # failed, or not confirmed within --wait
        raise typer.Exit(1)


def _publish_and_post(
    engine: Any, rpc: Any, deployment: Any, signer: Any, d: Any, wait: float, report: dict[str, Any]
) -> None:
    from ledger.bonus import publish_tree
    from ledger.db import session_scope

    campaign = d.terms.campaign_id
    with session_scope(engine) as session:
        tree = publish_tree(
            session=session,
            chain_id=deployment.chain_id,
            campaign_id=campaign,
            allocations=d.allocations,
            rule=d.rule_text,
        )
    report["published"] = True
    console.print(
        f"published: root {tree.root}, {tree.leaf_count} residents (GET /v1/campaigns/{campaign}/bonus-tree)",
        soft_wrap=True,
    )
    if _on_chain_bonus(rpc, deployment, campaign) == (tree.root, int(tree.total)):
        report["outcome"] = "on chain already"
        console.print("on chain already: nothing to sign")
        return
    action_id = _queue_staff_call(
        engine, rpc, deployment, signer, "setCampaignBonus", [campaign, tree.root.lower(), int(tree.total)]
    )
    report["actionId"], report["outcome"] = action_id, "queued"
    console.print(f"setCampaignBonus signed by {signer.address}: action {action_id} queued", soft_wrap=True)
    if wait > 0:
        report["outcome"] = _wait_confirmed(engine, action_id, wait)
        console.print(f"action {action_id}: {report['outcome']}", soft_wrap=True)


def _on_chain_bonus(rpc: Any, deployment: Any, campaign: int) -> tuple[str, int]:
    from ledger.chain.calls import view

    struct = "(uint64,uint64,uint8,uint32,uint8,uint128,uint128,bytes32,bytes32,uint128,uint128)"
    (c,) = view(rpc, deployment.address("CommunityRewards"), "campaign(uint256)", [campaign], [struct])
    return "0x" + bytes(c[8]).hex(), int(c[9])  # (bonusRoot, bonusTotal)


@rewards_app.command("rebuild")
def rebuild(
    campaign: CampaignOption,
    rpc: Annotated[str | None, typer.Option("--rpc", help="The node to ask (default: ESG_RPC_URL).")] = None,
    rule: Annotated[
        str | None,
        typer.Option(help="The rule as published (GET /v1/campaigns/ID/bonus-tree), or e.g. equal:sessions."),
    ] = None,
    pool: Annotated[int | None, typer.Option(min=1, help="Default: the bonus total on chain.")] = None,
    api: Annotated[
        str | None, typer.Option(help="The city's API, for its deployment if there is no manifest.")
    ] = None,
    deployment_file: Annotated[
        Path | None,
        typer.Option("--deployment", help="A deployment JSON (a manifest, or GET /v1/deployment)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Rebuild a campaign's bonus tree from chain data alone (logs, no database) and compare its root with
    the chain's. Exits 1 when they differ."""
    from cli.verify import _context as node_context
    from ledger.bonus_rules import rebuild_from_chain

    node, deployment = node_context(rpc, api, deployment_file)
    try:
        rebuilt = rebuild_from_chain(node, deployment, campaign, rule=rule, pool=pool)
    except LedgerError as exc:
        raise _fail(str(exc), 2) from None
    d = rebuilt.distribution
    if as_json:
        typer.echo(
            json.dumps(
                _distribution_json(d)
                | {
                    "chainRoot": rebuilt.chain_root,
                    "chainTotal": rebuilt.chain_total,
                    "matches": rebuilt.matches,
                },
                indent=2,
            )
        )
    else:
        _print_distribution(d)
        verdict = "MATCHES" if rebuilt.matches else "DIFFERS FROM"
        Console().print(
            f"rebuilt root {d.root} {verdict} the chain's {rebuilt.chain_root} (total {rebuilt.chain_total})"
        )
    if not rebuilt.matches:
        raise typer.Exit(1)
