// One row per event, as esg-ledger's event tables keep them.
import { onchainTable } from "ponder";

export const ploggingSession = onchainTable("plogging_session", (t) => ({
  id: t.text().primaryKey(),
  blockNumber: t.bigint().notNull(),
  txHash: t.hex().notNull(),
  digest: t.hex().notNull(),
  resident: t.hex().notNull(),
  nonce: t.bigint().notNull(),
  distanceMeters: t.integer().notNull(),
  durationSeconds: t.integer().notNull(),
  trashGrams: t.integer().notNull(),
  areaCode: t.integer().notNull(),
  startedAt: t.bigint().notNull(),
  evidenceHash: t.hex().notNull(),
  reward: t.bigint().notNull(),
  status: t.integer().notNull(),
}));

export const ploggingBatch = onchainTable("plogging_batch", (t) => ({
  id: t.text().primaryKey(),
  blockNumber: t.bigint().notNull(),
  batchId: t.bigint().notNull(),
  root: t.hex().notNull(),
  leafCount: t.bigint().notNull(),
}));

export const actionFailure = onchainTable("action_failure", (t) => ({
  id: t.text().primaryKey(),
  blockNumber: t.bigint().notNull(),
  digest: t.hex().notNull(),
  resident: t.hex().notNull(),
  reason: t.hex().notNull(),
}));

export const tokenTransfer = onchainTable("token_transfer", (t) => ({
  id: t.text().primaryKey(),
  blockNumber: t.bigint().notNull(),
  txHash: t.hex().notNull(),
  from: t.hex().notNull(),
  to: t.hex().notNull(),
  value: t.bigint().notNull(),
}));
