"""The `esg-ledger` command line: serve, node, deploy, index, audit, verify, rewards, bench."""
