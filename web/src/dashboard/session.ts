// Staff sign-in for the page: password + TOTP (custodial members) or Sign-In with Ethereum (wallet
// members). The API sets an HTTP-only session cookie and a readable CSRF cookie; api.ts repeats the
// latter as X-CSRF-Token on unsafe requests. The page never sees or stores the session token.
import { ApiError, api, cookie } from "../api";
import { t } from "../i18n";
import { $, say } from "../ui";
import { hasInjected } from "../wallet";
import { explain, setStaff, type Staff } from "./staff";

interface Eip1193 {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
}

const injected = (): Eip1193 | undefined => (window as unknown as { ethereum?: Eip1193 }).ethereum;

/** The member of this browser's session, or null (no call at all without the session's CSRF cookie). */
export async function resume(): Promise<Staff | null> {
  if (!cookie("esg_staff_csrf")) return null;
  try {
    return await api<Staff>("/v1/staff/me");
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) return null;
    throw e;
  }
}

function utf8Hex(text: string): string {
  return "0x" + Array.from(new TextEncoder().encode(text), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function siwe(): Promise<Staff> {
  const provider = injected();
  if (!provider) throw new ApiError("message", 0, t("dashboard.signin.noWallet"));
  let address: string;
  let signature: string;
  const { message } = await (async () => {
    const accounts = (await provider.request({ method: "eth_requestAccounts" })) as string[];
    address = String(accounts[0]);
    return api<{ message: string }>("/v1/staff/siwe/nonce", { method: "POST", body: { address } });
  })();
  try {
    signature = String(await provider.request({ method: "personal_sign", params: [utf8Hex(message), address!] }));
  } catch {
    throw new ApiError("message", 0, t("dashboard.signin.walletRejected"));
  }
  const signed = await api<{ staff: Staff }>("/v1/staff/siwe/verify", { method: "POST", body: { message, signature } });
  return signed.staff;
}

export function initSignIn(onSignedIn: (s: Staff) => void): void {
  const status = $("#signin-status");
  $("#siwe").hidden = !hasInjected();
  $("#siwe-none").hidden = hasInjected();
  $<HTMLFormElement>("#password-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = $<HTMLButtonElement>("#password-form button[type=submit]");
    button.disabled = true;
    say(status, () => t("dashboard.signin.signingIn"));
    try {
      const body = {
        login: $<HTMLInputElement>("#login").value.trim(),
        password: $<HTMLInputElement>("#password").value,
        totp: $<HTMLInputElement>("#totp").value.trim(),
      };
      const signed = await api<{ staff: Staff }>("/v1/staff/login", { method: "POST", body });
      $<HTMLInputElement>("#password").value = "";
      $<HTMLInputElement>("#totp").value = "";
      say(status, "");
      onSignedIn(signed.staff);
    } catch (e) {
      say(status, () => explain(e), "bad");
    } finally {
      button.disabled = false;
    }
  });
  $("#siwe").addEventListener("click", async () => {
    say(status, () => t("dashboard.signin.signingIn"));
    try {
      onSignedIn(await siwe());
      say(status, "");
    } catch (e) {
      say(status, () => explain(e), "bad");
    }
  });
}

export async function signOut(): Promise<void> {
  try {
    await api("/v1/staff/logout", { method: "POST" });
  } finally {
    setStaff(null);
  }
}
