// Checking a record on the chain itself: the node's URL is editable (use your own), the contracts'
// addresses and ABIs come from /v1/deployment, and ethers asks the node for the action's events and
// the resident's balance. The city's API answer is shown beside it, agreeing or not.
import { Contract, Interface, JsonRpcProvider, Network, type Log } from "ethers";
import { api, describe, type Action } from "../api";
import { fmtInt, t } from "../i18n";
import { $, copyable, el, say } from "../ui";

interface Deployment {
  chainId: number;
  startBlock: number;
  contracts: Record<string, { address: string; abi: unknown[] }>;
}

// The contracts whose events carry an action's digest as an indexed parameter.
const RECORDING = ["PloggingRegistry", "FeedbackBox", "CommunityRewards"];
let deployment: Deployment | null = null;
let loading: Promise<Deployment> | null = null;
let shown: Found | null = null; // the record on screen, drawn again in the other language

class NodeError extends Error {}

function load(): Promise<Deployment> {
  loading ??= api<Deployment>("/v1/deployment").then((d) => {
    deployment = d;
    renderContracts();
    return d;
  });
  return loading;
}

function renderContracts(): void {
  if (!deployment) return;
  $("#contracts").replaceChildren(
    ...Object.entries(deployment.contracts).map(([name, c]) => el("li", {}, el("span", { class: "label", text: name }), " ", copyable(c.address, name))),
  );
}

function provider(d: Deployment): JsonRpcProvider {
  const url = $<HTMLInputElement>("#rpc").value.trim();
  return new JsonRpcProvider(url, d.chainId, { staticNetwork: Network.from(d.chainId) });
}

async function onNode<T>(work: (p: JsonRpcProvider) => Promise<T>, d: Deployment): Promise<T> {
  const p = provider(d);
  try {
    return await work(p);
  } catch {
    throw new NodeError(t("errors.rpc", { url: $<HTMLInputElement>("#rpc").value.trim() }));
  } finally {
    p.destroy();
  }
}

interface Found {
  log: Log;
  contract: string;
  event: string;
  args: Record<string, unknown>;
}

async function findLogs(d: Deployment, id: string): Promise<Found[]> {
  const found: Found[] = [];
  await onNode(async (p) => {
    for (const name of RECORDING) {
      const c = d.contracts[name];
      if (!c) continue;
      const iface = new Interface(c.abi as never);
      // one query per position of the indexed digest among the topics
      const byPosition = new Map<number, string[]>();
      iface.forEachEvent((ev) => {
        const indexed = ev.inputs.filter((i) => i.indexed);
        const at = indexed.findIndex((i) => i.name === "digest" && i.type === "bytes32");
        if (at >= 0) byPosition.set(at + 1, [...(byPosition.get(at + 1) ?? []), ev.topicHash]);
      });
      for (const [position, topics0] of byPosition) {
        const topics: Array<string | string[] | null> = [topics0, ...Array(position - 1).fill(null), id];
        const logs = await p.getLogs({ address: c.address, topics, fromBlock: d.startBlock, toBlock: "latest" });
        for (const log of logs) {
          const parsed = iface.parseLog(log);
          if (!parsed) continue;
          const args: Record<string, unknown> = {};
          parsed.fragment.inputs.forEach((input, i) => (args[input.name] = parsed.args[i]));
          found.push({ log, contract: name, event: parsed.name, args });
        }
      }
    }
  }, d);
  return found.sort((a, b) => a.log.blockNumber - b.log.blockNumber || a.log.index - b.log.index);
}

const SHOWN = ["resident", "partner", "amount", "distanceMeters", "durationSeconds", "trashGrams", "areaCode", "reward", "itemId", "causeId"];

function fields(found: Found): HTMLElement[] {
  const out: HTMLElement[] = [];
  for (const key of SHOWN) {
    if (!(key in found.args)) continue;
    const value = String(found.args[key]);
    const label = t(`partnerDesk.verify.fields.${key}`);
    out.push(el("div", {}, el("dt", { text: label }), el("dd", {}, value.startsWith("0x") ? copyable(value, label) : value)));
  }
  const tx = t("partnerDesk.verify.fields.transaction");
  out.push(el("div", {}, el("dt", { text: tx }), el("dd", {}, copyable(found.log.transactionHash, tx))));
  return out;
}

export async function verifyAction(): Promise<void> {
  const result = $("#action-result");
  const list = $("#action-fields");
  list.replaceChildren();
  shown = null;
  const id = $<HTMLInputElement>("#action").value.trim().toLowerCase();
  if (!/^0x[0-9a-f]{64}$/.test(id)) return say(result, () => t("partnerDesk.verify.badId"), "bad");
  say(result, () => t("partnerDesk.verify.checking"));
  try {
    const d = await load();
    const logs = await findLogs(d, id);
    const record = logs.find((l) => l.event !== "ActionFailed");
    if (!record) {
      const failed = logs.find((l) => l.event === "ActionFailed");
      if (failed) return say(result, () => t("partnerDesk.verify.failedOnChain", { block: failed.log.blockNumber }), "bad");
      return say(result, () => t("partnerDesk.verify.notFound"), "bad");
    }
    const claim = await api<Action>(`/v1/actions/${id}`).catch(() => null);
    const agrees = !!claim && claim.status === "confirmed" && claim.blockNumber === record.log.blockNumber && claim.txHash === record.log.transactionHash;
    const block = record.log.blockNumber;
    say(result, () => `${t("partnerDesk.verify.found", { block, event: record.event })} ${t(agrees ? "partnerDesk.verify.agrees" : "partnerDesk.verify.disagrees")}`, agrees ? "ok" : "bad");
    shown = record;
    list.replaceChildren(...fields(record));
  } catch (e) {
    say(result, () => (e instanceof NodeError ? e.message : describe(e)), "bad");
  }
}

async function verifyBalance(): Promise<void> {
  const result = $("#balance-result");
  const holder = $<HTMLInputElement>("#holder").value.trim();
  if (!/^0x[0-9a-fA-F]{40}$/.test(holder)) return say(result, () => t("dashboard.desk.badAddress"), "bad");
  say(result, () => t("partnerDesk.verify.checking"));
  try {
    const d = await load();
    const token = d.contracts.ParticipationToken;
    const onChain = await onNode((p) => new Contract(token.address, token.abi as never, p).balanceOf(holder) as Promise<bigint>, d);
    const claimed = await api<{ balance: number | string }>(`/v1/residents/${holder}`)
      .then((r) => BigInt(r.balance))
      .catch(() => null);
    const agrees = claimed === onChain;
    say(
      result,
      () =>
        `${t("partnerDesk.verify.balance", { amount: fmtInt(onChain) })} ${
          agrees ? t("partnerDesk.verify.balanceAgrees") : t("partnerDesk.verify.balanceDiffers", { amount: claimed == null ? "–" : fmtInt(claimed) })
        }`,
      agrees ? "ok" : "bad",
    );
  } catch (e) {
    say(result, () => (e instanceof NodeError ? e.message : describe(e)), "bad");
  }
}

export function initVerify(): void {
  $<HTMLInputElement>("#rpc").value = document.body.dataset.rpcUrl ?? "";
  load().catch((e) => say($("#action-result"), () => describe(e), "bad"));
  $<HTMLFormElement>("#verify-action").addEventListener("submit", (event) => {
    event.preventDefault();
    void verifyAction();
  });
  $<HTMLFormElement>("#verify-balance").addEventListener("submit", (event) => {
    event.preventDefault();
    void verifyBalance();
  });
}

export function rerender(): void {
  renderContracts();
  if (shown) $("#action-fields").replaceChildren(...fields(shown));
}
