// Handlers doing comparable work to esg-ledger's indexer: insert one row per event.
import { ponder } from "ponder:registry";
import { actionFailure, ploggingBatch, ploggingSession, tokenTransfer } from "ponder:schema";

ponder.on("PloggingRegistry:PloggingRecorded", async ({ event, context }) => {
  const a = event.args;
  await context.db.insert(ploggingSession).values({
    id: event.id,
    blockNumber: event.block.number,
    txHash: event.transaction.hash,
    digest: a.digest,
    resident: a.resident,
    nonce: a.nonce,
    distanceMeters: a.distanceMeters,
    durationSeconds: a.durationSeconds,
    trashGrams: a.trashGrams,
    areaCode: a.areaCode,
    startedAt: a.startedAt,
    evidenceHash: a.evidenceHash,
    reward: a.reward,
    status: a.status,
  });
});

ponder.on("PloggingRegistry:PloggingBatchCommitted", async ({ event, context }) => {
  await context.db.insert(ploggingBatch).values({
    id: event.id,
    blockNumber: event.block.number,
    batchId: event.args.batchId,
    root: event.args.root,
    leafCount: event.args.leafCount,
  });
});

ponder.on("PloggingRegistry:ActionFailed", async ({ event, context }) => {
  await context.db.insert(actionFailure).values({
    id: event.id,
    blockNumber: event.block.number,
    digest: event.args.digest,
    resident: event.args.resident,
    reason: event.args.reason,
  });
});

ponder.on("ParticipationToken:Transfer", async ({ event, context }) => {
  await context.db.insert(tokenTransfer).values({
    id: event.id,
    blockNumber: event.block.number,
    txHash: event.transaction.hash,
    from: event.args.from,
    to: event.args.to,
    value: event.args.value,
  });
});
