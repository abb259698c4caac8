// The wallet section: create a key, unlock it, export it, or use an injected wallet.
import { t, onLangChange } from "../i18n";
import { $, copyable, say } from "../ui";
import {
  WalletError,
  createKey,
  exportKeystore,
  hasInjected,
  lock,
  onWalletChange,
  signer,
  storedAddress,
  unlock,
  useInjected,
} from "../wallet";

function render(): void {
  const s = signer();
  const stored = storedAddress();
  $("#wallet-open").hidden = !s;
  $("#wallet-unlock").hidden = !!s || !stored;
  $("#wallet-create").hidden = !!s || !!stored;
  $("#wallet-injected").hidden = !!s || !hasInjected();
  if (s) {
    $("#wallet-mode").textContent = t(s.mode === "local" ? "wallet.unlocked" : "wallet.injected");
    $("#wallet-address").replaceChildren(copyable(s.address, t("wallet.address")));
    $("#wallet-export").hidden = s.mode !== "local";
  } else if (stored) {
    $("#wallet-stored-address").replaceChildren(copyable(stored, t("wallet.address")));
  }
}

function problem(e: unknown): string {
  return e instanceof WalletError ? t(`wallet.${e.code}`) : String(e);
}

export function initWalletPanel(): void {
  const status = $("#wallet-status");
  $<HTMLFormElement>("#wallet-create").addEventListener("submit", async (event) => {
    event.preventDefault();
    const a = $<HTMLInputElement>("#create-passphrase").value;
    const b = $<HTMLInputElement>("#create-passphrase-2").value;
    if (a.length < 8) return say(status, () => t("wallet.tooShort"), "bad");
    if (a !== b) return say(status, () => t("wallet.mismatch"), "bad");
    say(status, () => t("wallet.creating"));
    try {
      await createKey(a);
      say(status, "");
      $("#wallet-h").focus();
    } catch (e) {
      say(status, () => problem(e), "bad");
    }
  });
  $<HTMLFormElement>("#wallet-unlock").addEventListener("submit", async (event) => {
    event.preventDefault();
    say(status, () => t("wallet.unlocking"));
    try {
      await unlock($<HTMLInputElement>("#unlock-passphrase").value);
      say(status, "");
    } catch (e) {
      say(status, () => problem(e), "bad");
    }
  });
  $("#wallet-injected").addEventListener("click", async () => {
    try {
      await useInjected();
      say(status, "");
    } catch (e) {
      say(status, () => problem(e), "bad");
    }
  });
  $("#wallet-lock").addEventListener("click", () => lock());
  $("#wallet-export").addEventListener("click", () => {
    const blob = exportKeystore();
    const s = signer();
    if (!blob || !s) return;
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = `esg-ledger-key-${s.address}.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    say(status, () => t("wallet.exported"), "ok");
  });
  $("#wallet-h").setAttribute("tabindex", "-1");
  onWalletChange(render);
  onLangChange(render);
  render();
}

/** The signer, or a message in `status` that says how to get one. */
export function needSigner(status: HTMLElement) {
  const s = signer();
  if (!s) {
    say(status, () => t("wallet.needed"), "bad");
    return null;
  }
  return s;
}

export { problem as walletProblem };
