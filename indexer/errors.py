"""The indexer's exceptions.

IndexerError             (a log that does not decode is ledger.errors.DecodeError)
└── ReorgTooDeepError    the node's chain diverges below the finality depth: the indexer halts
"""

from __future__ import annotations


class IndexerError(Exception):
    pass


class ReorgTooDeepError(IndexerError):
    def __init__(self, chain_id: int, cursor: int, checked_from: int) -> None:
        self.chain_id = chain_id
        self.cursor = cursor
        super().__init__(
            f"chain {chain_id}: no indexed block from {checked_from} to {cursor} is still on the node's "
            "chain; the fork is deeper than the finality depth. Halting: check the node, then rebuild "
            "the mirror "
            "(`esg-ledger index --rebuild`) if the node is right."
        )
