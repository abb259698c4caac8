"""Where the pinned npm toolchain lives: the solc shim, anvil and forge (package.json pins them)."""

from __future__ import annotations

from pathlib import Path

from .errors import ToolchainError
from .settings import PROJECT_ROOT


def _require(path: Path, what: str) -> Path:
    if not path.exists():
        raise ToolchainError(
            f"{what} not found at {path}: run `npm ci` in {PROJECT_ROOT} (scripts/run does it)"
        )
    return path


def solc_shim(root: Path = PROJECT_ROOT) -> Path:
    _require(root / "node_modules" / "solc", "npm package solc")
    return _require(root / "scripts" / "solc" / "solc", "solc shim")


def anvil_binary(root: Path = PROJECT_ROOT) -> Path:
    return _require(root / "node_modules" / ".bin" / "anvil", "anvil (npm @foundry-rs/anvil)")


def forge_binary(root: Path = PROJECT_ROOT) -> Path:
    return _require(root / "node_modules" / ".bin" / "forge", "forge (npm @foundry-rs/forge)")
