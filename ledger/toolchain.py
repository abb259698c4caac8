"""Where the pinned npm toolchain lives: the solc shim, anvil and forge (package.json pins them)."""

from __future__ import annotations

import os
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


def _native(root: Path, tool: str) -> Path:
    """The platform package's binary itself where npm installed one (`@foundry-rs/<tool>-linux-amd64`
    and the like), else the package's Node launcher, which runs it as a child process: the binary
    saves a Node process per run, and its signals and CPU time are the tool's own."""
    for native in sorted((root / "node_modules" / "@foundry-rs").glob(f"{tool}-*-*/bin/{tool}")):
        if native.is_file() and os.access(native, os.X_OK):
            return native
    return _require(root / "node_modules" / ".bin" / tool, f"{tool} (npm @foundry-rs/{tool})")


def anvil_binary(root: Path = PROJECT_ROOT) -> Path:
    return _native(root, "anvil")


def forge_binary(root: Path = PROJECT_ROOT) -> Path:
    return _native(root, "forge")
