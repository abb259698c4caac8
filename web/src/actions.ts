// One resident action from start to finish: prepare (the API builds the typed data), sign, submit, follow.
import { api, type Action, type TypedData } from "./api";
import type { Signer } from "./wallet";

export type Step = "preparing" | "signing" | Action["status"];

export interface Sent {
  id: string;
  kind: string;
  at: number;
}

const STORE = "esg.actions.";
const KEEP = 50;

export function sentFrom(address: string): Sent[] {
  try {
    const list = JSON.parse(localStorage.getItem(STORE + address.toLowerCase()) ?? "[]");
    return Array.isArray(list) ? (list as Sent[]) : [];
  } catch {
    return [];
  }
}

function remember(address: string, sent: Sent): void {
  const list = [sent, ...sentFrom(address).filter((s) => s.id !== sent.id)].slice(0, KEEP);
  try {
    localStorage.setItem(STORE + address.toLowerCase(), JSON.stringify(list));
  } catch {
    /* storage full or off: the id is still shown on screen */
  }
}

/** Prepares, signs and submits; returns the action id (the EIP-712 digest). */
export async function send(
  signer: Signer,
  kind: string,
  payload: Record<string, unknown>,
  onStep: (step: Step) => void,
): Promise<string> {
  onStep("preparing");
  const { typedData } = await api<{ typedData: TypedData }>("/v1/actions/prepare", {
    method: "POST",
    body: { kind, resident: signer.address, payload },
  });
  onStep("signing");
  const signature = await signer.signTypedData(typedData);
  const { id } = await api<{ id: string; status: Action["status"] }>("/v1/actions", {
    method: "POST",
    body: { typedData, signature },
  });
  remember(signer.address, { id, kind, at: Math.floor(Date.now() / 1000) });
  onStep("queued");
  return id;
}

/** Signs without submitting: a redemption the partner submits after scanning it. */
export async function signOnly(
  signer: Signer,
  kind: string,
  payload: Record<string, unknown>,
): Promise<{ typedData: TypedData; signature: string }> {
  const { typedData } = await api<{ typedData: TypedData }>("/v1/actions/prepare", {
    method: "POST",
    body: { kind, resident: signer.address, payload },
  });
  return { typedData, signature: await signer.signTypedData(typedData) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Follows an action until it is confirmed or failed (or `patience` polls pass). */
export async function follow(id: string, onUpdate: (action: Action) => void, patience = 120): Promise<Action> {
  let action = await api<Action>(`/v1/actions/${id}`);
  for (let i = 0; i < patience && action.status !== "confirmed" && action.status !== "failed"; i++) {
    onUpdate(action);
    await sleep(1000);
    action = await api<Action>(`/v1/actions/${id}`);
  }
  onUpdate(action);
  return action;
}
