// Ponder indexing the same ledger contracts as esg-ledger's indexer. `esg-ledger bench indexer` writes
// generated/deployment.json (addresses, ABIs, start block) and sets the environment below.
import { readFileSync } from "node:fs";
import { createConfig } from "ponder";
import type { Abi } from "viem";

type Deployment = {
  chainId: number;
  startBlock: number;
  contracts: Record<string, { address: `0x${string}`; abi: Abi }>;
};
const deployment: Deployment = JSON.parse(
  readFileSync(new URL("./generated/deployment.json", import.meta.url), "utf8"),
);
const contract = (name: string) => ({
  chain: "ledger" as const,
  abi: deployment.contracts[name]!.abi,
  address: deployment.contracts[name]!.address,
  startBlock: deployment.startBlock,
});

export default createConfig({
  chains: {
    ledger: {
      id: deployment.chainId,
      rpc: process.env.PONDER_RPC_URL!,
      // cold, like ours: no RPC cache from an earlier run
      disableCache: true,
    },
  },
  database: { kind: "pglite", directory: process.env.PONDER_PGLITE_DIR! },
  contracts: {
    PloggingRegistry: contract("PloggingRegistry"),
    ParticipationToken: contract("ParticipationToken"),
  },
});
