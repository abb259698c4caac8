// Who signs: an in-browser key (ethers v6, kept in localStorage as an encrypted JSON keystore) or an
// injected EIP-1193 wallet (eth_signTypedData_v4). Both sign exactly the typedData the API prepared.
import { Wallet, encryptKeystoreJson, getAddress, type HDNodeWallet } from "ethers";
import type { TypedData } from "./api";

export interface Signer {
  readonly mode: "local" | "injected";
  readonly address: string;
  signTypedData(typedData: TypedData): Promise<string>;
}

interface Eip1193 {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
}

export class WalletError extends Error {
  constructor(readonly code: "wrongPassphrase" | "noInjected" | "rejected" | "tooShort") {
    super(code);
  }
}

const STORE = "esg.wallet.keystore";
// scrypt's cost: 2^15 keeps unlocking to a second or two on an old phone; the keystore stays a standard
// Web3 Secret Storage v3 file that any wallet imports.
const SCRYPT_N = 2 ** 15;
let current: Signer | null = null;
const listeners: Array<() => void> = [];

function changed(): void {
  for (const listener of listeners) listener();
}

export function onWalletChange(listener: () => void): void {
  listeners.push(listener);
}

export function signer(): Signer | null {
  return current;
}

export function storedKeystore(): string | null {
  try {
    return localStorage.getItem(STORE);
  } catch {
    return null;
  }
}

export function storedAddress(): string | null {
  const json = storedKeystore();
  if (!json) return null;
  try {
    return getAddress("0x" + String(JSON.parse(json).address).replace(/^0x/, ""));
  } catch {
    return null;
  }
}

function localSigner(wallet: Wallet | HDNodeWallet): Signer {
  return {
    mode: "local",
    address: wallet.address,
    signTypedData: (td) => {
      const types = { ...td.types };
      delete types.EIP712Domain; // ethers derives the domain's type from the domain itself
      return wallet.signTypedData(td.domain, types, td.message);
    },
  };
}

export async function createKey(passphrase: string): Promise<Signer> {
  if (passphrase.length < 8) throw new WalletError("tooShort");
  const wallet = Wallet.createRandom();
  const json = await encryptKeystoreJson({ address: wallet.address, privateKey: wallet.privateKey }, passphrase, {
    scrypt: { N: SCRYPT_N },
  });
  localStorage.setItem(STORE, json);
  current = localSigner(wallet);
  changed();
  return current;
}

export async function unlock(passphrase: string): Promise<Signer> {
  const json = storedKeystore();
  if (!json) throw new WalletError("wrongPassphrase");
  try {
    current = localSigner(await Wallet.fromEncryptedJson(json, passphrase));
  } catch {
    throw new WalletError("wrongPassphrase");
  }
  changed();
  return current;
}

export function lock(): void {
  current = null;
  changed();
}

function injected(): Eip1193 | undefined {
  return (window as unknown as { ethereum?: Eip1193 }).ethereum;
}

export function hasInjected(): boolean {
  return injected() !== undefined;
}

export async function useInjected(): Promise<Signer> {
  const provider = injected();
  if (!provider) throw new WalletError("noInjected");
  let accounts: unknown;
  try {
    accounts = await provider.request({ method: "eth_requestAccounts" });
  } catch {
    throw new WalletError("rejected");
  }
  const address = getAddress(String((accounts as string[])[0]));
  current = {
    mode: "injected",
    address,
    signTypedData: async (td) => {
      try {
        return String(await provider.request({ method: "eth_signTypedData_v4", params: [address, JSON.stringify(td)] }));
      } catch {
        throw new WalletError("rejected");
      }
    },
  };
  changed();
  return current;
}

/** The keystore as a file the resident saves (the same JSON any wallet imports). */
export function exportKeystore(): Blob | null {
  const json = storedKeystore();
  return json ? new Blob([json], { type: "application/json" }) : null;
}
