"""Compiles `contracts/` with py-solc-x through the solcjs shim; results are cached by source fingerprint."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import solcx

from .errors import CompilationError, ToolchainError
from .settings import PROJECT_ROOT
from .toolchain import solc_shim

REMAPPINGS = ["@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/"]
SOLC_SETTINGS: dict[str, Any] = {
    "optimizer": {"enabled": True, "runs": 10_000},
    "evmVersion": "prague",
    "remappings": REMAPPINGS,
    "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}},
}


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str


def _fingerprint(root: Path, sources: list[Path]) -> str:
    h = hashlib.sha256()
    h.update(json.dumps(SOLC_SETTINGS, sort_keys=True).encode())
    for pkg in ("solc", "@openzeppelin/contracts"):
        h.update((root / "node_modules" / pkg / "package.json").read_bytes())
    for path in sources:
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:32]


def compile_contracts(root: Path = PROJECT_ROOT, build_dir: Path | None = None) -> dict[str, Artifact]:
    """Every contract in `contracts/`, by name. Rebuilds only when a source, solc or OZ changes."""
    sources = sorted((root / "contracts").rglob("*.sol"))
    if not sources:
        raise ToolchainError(f"no Solidity sources in {root / 'contracts'}")
    cache_dir = (build_dir or root / "build") / "artifacts"
    cache = cache_dir / f"{_fingerprint(root, sources)}.json"
    if cache.exists():
        raw = json.loads(cache.read_text())
    else:
        raw = _run_solc(root, sources)
        cache_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            json.dump(raw, fh)
        os.replace(tmp, cache)
    return {name: Artifact(name=name, **fields) for name, fields in raw.items()}


def _run_solc(root: Path, sources: list[Path]) -> dict[str, dict[str, Any]]:
    standard_input = {
        "language": "Solidity",
        "sources": {str(p.relative_to(root)): {"content": p.read_text()} for p in sources},
        "settings": SOLC_SETTINGS,
    }
    try:
        output = solcx.compile_standard(
            standard_input, base_path=str(root), allow_paths=[str(root)], solc_binary=str(solc_shim(root))
        )
    except solcx.exceptions.SolcError as exc:
        raise CompilationError([str(exc)]) from exc
    errors = [e["formattedMessage"] for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise CompilationError(errors)
    result: dict[str, dict[str, Any]] = {}
    for path, contracts in output["contracts"].items():
        if not path.startswith("contracts/"):
            continue
        for name, c in contracts.items():
            if name in result and result[name]["bytecode"] != "0x" + c["evm"]["bytecode"]["object"]:
                raise ToolchainError(f"two contracts are named {name}: contract names must be unique")
            result[name] = {
                "abi": c["abi"],
                "bytecode": "0x" + c["evm"]["bytecode"]["object"],
                "deployed_bytecode": "0x" + c["evm"]["deployedBytecode"]["object"],
            }
    return result
