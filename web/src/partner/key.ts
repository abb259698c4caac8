// The partner's API key: kept in sessionStorage (this tab only, gone when it closes), never localStorage,
// and sent as X-Partner-Key on every /v1/partner/… call.
import { api, type RequestInit } from "../api";

const STORE = "esg.partner.key";

export interface PartnerMe {
  address: string;
  name: string | null;
  active: boolean;
  expiresAt: number;
  key: { id: string; label: string; scopes: string[] };
}

export function storedKey(): string | null {
  try {
    return sessionStorage.getItem(STORE);
  } catch {
    return null;
  }
}

export function keepKey(key: string | null): void {
  try {
    if (key) sessionStorage.setItem(STORE, key);
    else sessionStorage.removeItem(STORE);
  } catch {
    /* storage off: the key lasts until the page reloads */
  }
  current = key;
}

let current: string | null = storedKey();

export function partnerApi<T>(path: string, init: RequestInit = {}): Promise<T> {
  return api<T>(path, { ...init, headers: { ...init.headers, "X-Partner-Key": current ?? "" } });
}

export function hasKey(): boolean {
  return !!current;
}
