"""Benchmarks. `signatures` needs no running service; `pipeline` starts anvil and the server itself."""

from .signatures import signatures

__all__ = ["signatures"]
