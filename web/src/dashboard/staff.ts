// The signed-in staff member, and their calls: a custodial member's call comes back queued (the city's key
// signed it); a wallet member's comes back as typed data, which their injected wallet signs and
// POST /v1/staff/actions queues. Either way the page follows the action until the chain settles it.
import { follow } from "../actions";
import { ApiError, api, describe, type Action, type TypedData } from "../api";
import { failure } from "../failures";
import { t } from "../i18n";
import { say, showProof } from "../ui";
import { WalletError, signer, useInjected } from "../wallet";

export interface Staff {
  memberId: number;
  address: string;
  name: string;
  roles: string[];
  areas: number[] | null;
  custodial: boolean;
  sessionId: string;
}

export interface StaffAnswer {
  id?: string | null;
  status?: string | null;
  typedData?: TypedData | null;
}

export interface BulkAnswer {
  results: Array<{ key: string; result?: StaffAnswer | null; error?: { code?: string; message?: string } | null }>;
}

let me: Staff | null = null;

export function staff(): Staff | null {
  return me;
}

export function setStaff(next: Staff | null): void {
  me = next;
}

export function can(...roles: string[]): boolean {
  return !!me && roles.some((r) => me!.roles.includes(r));
}

/** A message for anything a staff call can throw. */
export function explain(e: unknown): string {
  if (e instanceof WalletError) return t(e.code === "rejected" ? "dashboard.signin.walletRejected" : `wallet.${e.code}`);
  if (e instanceof ApiError && e.code === "message") return e.detail ?? "";
  if (e instanceof ApiError) return describe(e);
  return describe(new ApiError("unknown", 0, String(e)));
}

async function walletSignature(typedData: TypedData): Promise<string> {
  const member = me?.address ?? "";
  const wallet = signer()?.mode === "injected" ? signer()! : await useInjected();
  if (wallet.address.toLowerCase() !== member.toLowerCase())
    throw new ApiError("message", 0, t("dashboard.call.wrongWallet", { wallet: wallet.address, member }));
  return wallet.signTypedData(typedData);
}

/** Turns a staff answer into a queued action id (signing with the wallet when it is typed data). */
export async function queued(answer: StaffAnswer, status: HTMLElement): Promise<string> {
  if (answer.id) return answer.id;
  if (!answer.typedData) throw new ApiError("server", 0);
  say(status, () => t("dashboard.call.signing"));
  const signature = await walletSignature(answer.typedData);
  const sent = await api<{ id: string }>("/v1/staff/actions", { method: "POST", body: { typedData: answer.typedData, signature } });
  return sent.id;
}

function sayAction(status: HTMLElement, action: Action): void {
  if (action.status === "confirmed") say(status, () => t("dashboard.call.confirmed", { block: action.blockNumber }), "ok");
  else if (action.status === "failed") say(status, () => t("dashboard.call.failed", { reason: failure(action.error) }), "bad");
  else say(status, () => t(`dashboard.call.${action.status}`));
}

/** Follows one queued staff action, keeping `status` (and `proof`) current; the settled action. */
export async function settle(id: string, status: HTMLElement, proof?: HTMLElement): Promise<Action> {
  const action = await follow(id, (a) => {
    sayAction(status, a);
    if (proof) showProof(proof, a, false);
  });
  if (action.status !== "confirmed" && action.status !== "failed") say(status, () => t("dashboard.call.still"));
  return action;
}

/** One staff call from a button: the request, the signature if needed, then its status to the end. */
export async function staffCall(
  method: string,
  path: string,
  body: unknown,
  status: HTMLElement,
  buttons: HTMLButtonElement[] = [],
  proof?: HTMLElement,
): Promise<Action | null> {
  for (const b of buttons) b.disabled = true;
  say(status, () => t("dashboard.call.preparing"));
  try {
    const answer = await api<StaffAnswer>(path, { method, body });
    return await settle(await queued(answer, status), status, proof);
  } catch (e) {
    say(status, () => explain(e), "bad");
    return null;
  } finally {
    for (const b of buttons) b.disabled = false;
  }
}
