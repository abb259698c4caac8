// Sends one action from a panel and keeps its status line and proof up to date until it settles.
import { send, follow } from "../actions";
import { ApiError, describe, type Action } from "../api";
import { t } from "../i18n";
import { say, showProof } from "../ui";
import { WalletError } from "../wallet";
import { failure } from "../failures";

export { failure };
import { needSigner, walletProblem } from "./walletPanel";

export function explain(e: unknown): string {
  return e instanceof WalletError ? walletProblem(e) : e instanceof ApiError ? describe(e) : describe(new ApiError("unknown", 0, String(e)));
}

function sayAction(status: HTMLElement, action: Action): void {
  if (action.status === "confirmed") say(status, () => t("status.confirmed", { block: action.blockNumber }), "ok");
  else if (action.status === "failed") say(status, () => t("status.failed", { reason: failure(action.error) }), "bad");
  else say(status, () => t(`status.${action.status}`));
}

/** Returns the settled action, or null when it could not be sent (the status line says why). */
export async function sendAndFollow(
  kind: string,
  payload: Record<string, unknown> | (() => Promise<Record<string, unknown>>),
  status: HTMLElement,
  proof: HTMLElement,
  button?: HTMLButtonElement,
): Promise<Action | null> {
  const signer = needSigner(status);
  if (!signer) return null;
  showProof(proof, null);
  if (button) button.disabled = true;
  try {
    const body = typeof payload === "function" ? await payload() : payload;
    const id = await send(signer, kind, body, (step) => say(status, () => t(`status.${step}`)));
    const action = await follow(id, (a) => {
      sayAction(status, a);
      showProof(proof, a);
    });
    if (action.status !== "confirmed" && action.status !== "failed") say(status, () => t("status.still"));
    return action;
  } catch (e) {
    say(status, () => explain(e), "bad");
    return null;
  } finally {
    if (button) button.disabled = false;
  }
}
