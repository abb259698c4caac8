"""What a partner checks on-chain, trusting neither the city's database nor its API.

Everything here needs only a JSON-RPC node (anything with `call(method, params)`) and the deployment's
addresses and ABIs (a manifest, or the JSON of `GET /v1/deployment`):

- `find_record`: a record of any kind by its EIP-712 digest, with its current status (later reviews,
  rejections, revocations, feedback moderation, answers, closing), block, transaction, log index,
  confirmations and finality;
- `balance_at`: a token balance at a block, optionally against a claimed value;
- `verify_redemption`: a redemption, its partner and amount, and the partner's registration then;
- `make_bundle` / `check_bundle`: proof bundles checked offline from the block header's hash and the
  receipts and transactions tries' roots (docs/audit.md, "Partner verification").
"""

from ._encoding import encode_receipt, encode_transaction, header_fields, header_hash
from ._errors import BundleError, RecordNotFoundError, VerifyError
from ._node import KIND_EVENTS, KindEvent, Node, as_deployment
from .accounts import Balance, Redemption, balance_at, verify_redemption
from .bundle import FORMAT, BundleReport, check_bundle, fold_status, make_bundle
from .records import Record, feedback_item, find_record

__all__ = [
    "FORMAT",
    "KIND_EVENTS",
    "Balance",
    "BundleError",
    "BundleReport",
    "KindEvent",
    "Node",
    "Record",
    "RecordNotFoundError",
    "Redemption",
    "VerifyError",
    "as_deployment",
    "balance_at",
    "check_bundle",
    "encode_receipt",
    "encode_transaction",
    "feedback_item",
    "find_record",
    "fold_status",
    "header_fields",
    "header_hash",
    "make_bundle",
    "verify_redemption",
]
