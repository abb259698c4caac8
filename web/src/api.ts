// The API client. Errors are RFC 9457 problem details ({type, title, status, detail, code, field, errors});
// the older {"error": {code, message, field}} shape is read too. Every failure becomes an ApiError whose
// `code` picks a plain-language message from the catalogue (describe()).
import { t } from "./i18n";

export interface FieldError {
  field?: string;
  code?: string;
  detail?: string;
}

export class ApiError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    readonly detail?: string,
    readonly field?: string,
    readonly errors: FieldError[] = [],
  ) {
    super(detail ?? code);
    this.name = "ApiError";
  }
}

type Json = Record<string, unknown>;

function str(v: unknown): string | undefined {
  return typeof v === "string" && v ? v : undefined;
}

/** An error body, in whichever shape the API sent it. */
export function parseError(status: number, body: unknown): ApiError {
  const b = (body && typeof body === "object" ? body : {}) as Json;
  const legacy = b.error && typeof b.error === "object" ? (b.error as Json) : undefined;
  if (legacy) return new ApiError(str(legacy.code) ?? "unknown", status, str(legacy.message), str(legacy.field));
  const errors = Array.isArray(b.errors)
    ? (b.errors as Json[]).map((e) => ({ field: str(e.field), code: str(e.code), detail: str(e.detail) ?? str(e.message) }))
    : [];
  const code = str(b.code) ?? (status >= 500 ? "server" : status === 404 ? "not_found" : status === 403 ? "forbidden" : "unknown");
  return new ApiError(code, status, str(b.detail) ?? str(b.title), str(b.field) ?? errors[0]?.field, errors);
}

export interface RequestInit {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** A cookie's value (the staff pages' CSRF cookie is readable on purpose: double submit). */
export function cookie(name: string): string | null {
  for (const part of document.cookie.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return decodeURIComponent(v.join("="));
  }
  return null;
}

export async function api<T = Json>(path: string, init: RequestInit = {}): Promise<T> {
  const method = init.method ?? "GET";
  const headers: Record<string, string> = { accept: "application/json", ...init.headers };
  if (init.body !== undefined) headers["content-type"] = "application/json";
  // A staff page's session is an HTTP-only cookie; an unsafe request repeats the CSRF cookie in a header.
  const csrf = UNSAFE.has(method) ? cookie("esg_staff_csrf") : null;
  if (csrf) headers["X-CSRF-Token"] = csrf;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      credentials: "same-origin",
      signal: AbortSignal.timeout(20_000),
    });
  } catch (e) {
    throw new ApiError(e instanceof DOMException && e.name === "TimeoutError" ? "timeout" : "network", 0);
  }
  if (response.status === 204) return undefined as T;
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) throw parseError(response.status, body);
  if (body === undefined) throw new ApiError("server", response.status);
  return body as T;
}

/** A message a resident can act on, in the current language. */
export function describe(e: unknown): string {
  if (!(e instanceof ApiError)) return t("errors.unknown", { where: "" });
  const where = e.field ? t("errors.field", { field: e.field }) : "";
  const known = t(`errors.${e.code}`, { where, status: e.status, defaultValue: "" });
  const message = known || (e.status >= 500 ? t("errors.server", { status: e.status }) : t("errors.unknown", { where }));
  const detail = e.errors.length > 1 ? e.errors.map((x) => [x.field, x.detail].filter(Boolean).join(": ")).join("; ") : e.detail;
  return detail && e.code !== "network" ? `${message} ${t("errors.detail", { detail })}` : message;
}

// ---- the shapes this page reads (docs/api.md) ----

export interface TypedData {
  domain: Record<string, unknown>;
  types: Record<string, Array<{ name: string; type: string }>>;
  primaryType: string;
  message: Record<string, unknown>;
}

export interface Action {
  id: string;
  kind: string;
  status: "queued" | "submitted" | "confirmed" | "failed";
  txHash: string | null;
  blockNumber: number | null;
  logIndex: number | null;
  error: string | null;
}

export interface Page<T> {
  items: T[];
  total: number;
}

export interface FeedbackItem {
  id: number;
  digest: string;
  resident: string;
  status: "submitted" | "under_review" | "answered" | "closed";
  category: string | null;
  supports: number;
  threshold: number;
  thresholdReached: boolean;
  accepted: boolean | null;
  hidden: boolean;
  content: string | null;
  contentState: "shown" | "hidden" | "erased" | "missing";
  answer?: { accepted: boolean; text: string | null } | null;
}

export interface Session {
  id: string;
  distanceMeters: number;
  durationSeconds: number;
  trashGrams: number;
  startedAt: number;
  reward: number;
  status: "pending" | "accepted" | "rejected" | "revoked";
  txHash: string;
  blockNumber: number;
}

export interface Resident {
  address: string;
  balance: number | string;
  plogging: { sessions: number; trashGrams: number; distanceMeters: number };
  actions?: Record<string, number>;
  feedback: { submitted: number; supported: number };
  redeemed: number | string;
  donated: number | string;
  claimed?: number | string;
}
