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
