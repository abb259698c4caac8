"""What both the relayer and the indexer need of the chain: the JSON-RPC transport (`rpc`), the
contracts' event specs and topics (`events`), log decoding (`decode`), which events are admin
actions (`admin`) and custom-error decoding (`revert`). Nothing here knows the outbox or the mirror.
"""
