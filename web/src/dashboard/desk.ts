// Desk mode: a staff member with the enroller role enrols a resident who came to a service desk, with
// the keccak256 of the signed consent form (hashed here, in the browser; the file never leaves it) and
// the desk's party code. Then, for a resident with no device at all, it acts for them with their consent
// (POST /v1/staff/desk/actions): the desk holds their custodial wallet under the desk's reference for the
// person, enrols them in the same call if nobody has, and the act is logged as assisted.
import { keccak256 } from "ethers";
import { api } from "../api";
import { t } from "../i18n";
import { $, say } from "../ui";
import { explain, settle, staffCall } from "./staff";

const PARTY = "esg.desk.party";
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const HASH = /^0x[0-9a-fA-F]{64}$/;
const REFERENCE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

interface DeskAnswer {
  id: string;
  status: string;
  resident: string;
  reference: string;
  enrolmentId: string | null;
}

function remembered(): string {
  try {
    return localStorage.getItem(PARTY) ?? "";
  } catch {
    return "";
  }
}

export function initDesk(): void {
  const status = $("#desk-status");
  const resident = $<HTMLInputElement>("#desk-resident");
  const party = $<HTMLInputElement>("#desk-party");
  const hash = $<HTMLInputElement>("#desk-hash");
  const consent = $<HTMLInputElement>("#desk-consent");
  party.value = remembered();
  $<HTMLInputElement>("#desk-file").addEventListener("change", async (event) => {
    const file = (event.target as HTMLInputElement).files?.[0];
    if (file) hash.value = keccak256(new Uint8Array(await file.arrayBuffer()));
  });
  $<HTMLFormElement>("#desk-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const fail = (key: string, field: HTMLInputElement) => {
      say(status, () => t(key), "bad");
      field.setAttribute("aria-invalid", "true");
      field.focus();
    };
    for (const f of [resident, hash, consent]) f.removeAttribute("aria-invalid");
    if (!ADDRESS.test(resident.value.trim())) return fail("dashboard.desk.badAddress", resident);
    if (!HASH.test(hash.value.trim())) return fail("dashboard.desk.badHash", hash);
    if (!consent.checked) return fail("dashboard.desk.needConsent", consent);
    const code = party.value.trim();
    try {
      localStorage.setItem(PARTY, code);
    } catch {
      /* remembered for this page only */
    }
    const body = { resident: resident.value.trim(), party: code, evidenceHash: hash.value.trim() };
    const button = $<HTMLButtonElement>("#desk-form button[type=submit]");
    const action = await staffCall("POST", "/v1/staff/enrolments", body, status, [button], $("#desk-proof"));
    if (action?.status === "confirmed") {
      say(status, () => t("dashboard.desk.enrolled", { block: action.blockNumber, party: code }), "ok");
      consent.checked = false;
    }
  });
}

function invalid(status: HTMLElement, key: string, field: HTMLElement): void {
  say(status, () => t(key), "bad");
  field.setAttribute("aria-invalid", "true");
  field.focus();
}

function payloadOf(kind: string, status: HTMLElement): Record<string, unknown> | null {
  if (kind === "feedback") {
    const category = $<HTMLInputElement>("#desk-category");
    const content = $<HTMLTextAreaElement>("#desk-content");
    if (!category.value.trim()) return invalid(status, "dashboard.desk.act.badFeedback", category), null;
    if (!content.value.trim()) return invalid(status, "dashboard.desk.act.badFeedback", content), null;
    return { category: category.value.trim(), content: content.value.trim() };
  }
  const fields = ["#desk-distance", "#desk-minutes", "#desk-trash", "#desk-area"].map((id) => $<HTMLInputElement>(id));
  const [distanceMeters, minutes, trashGrams, areaCode] = fields.map((f) => Number(f.value));
  const bad = fields.find((f) => f.value.trim() === "" || !Number.isInteger(Number(f.value)) || Number(f.value) < 0);
  if (bad || minutes < 1) return invalid(status, "dashboard.desk.act.badPlogging", bad ?? fields[1]), null;
  const durationSeconds = minutes * 60;
  const startedAt = Math.floor(Date.now() / 1000) - durationSeconds - 1; // it ended before it is recorded
  const figures = { distanceMeters, durationSeconds, trashGrams, areaCode, startedAt };
  // No track at a desk: the evidence is the hash of what the staff member entered.
  const evidenceHash = keccak256(new TextEncoder().encode(JSON.stringify({ desk: true, ...figures })));
  return { ...figures, evidenceHash };
}

export function initDeskActing(): void {
  const status = $("#desk-act-status");
  const shown = $("#desk-act-id");
  const reference = $<HTMLInputElement>("#desk-ref");
  const kind = $<HTMLSelectElement>("#desk-kind");
  const hash = $<HTMLInputElement>("#desk-act-hash");
  const consent = $<HTMLInputElement>("#desk-act-consent");
  const button = $<HTMLButtonElement>("#desk-act-form button[type=submit]");
  const showKind = () => {
    $("#desk-plogging").hidden = kind.value !== "plogging";
    $("#desk-feedback").hidden = kind.value !== "feedback";
  };
  kind.addEventListener("change", showKind);
  showKind();
  $<HTMLInputElement>("#desk-act-file").addEventListener("change", async (event) => {
    const file = (event.target as HTMLInputElement).files?.[0];
    if (file) hash.value = keccak256(new Uint8Array(await file.arrayBuffer()));
  });
  $<HTMLFormElement>("#desk-act-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const f of $("#desk-act-form").querySelectorAll("[aria-invalid]")) f.removeAttribute("aria-invalid");
    if (!REFERENCE.test(reference.value.trim())) return invalid(status, "dashboard.desk.act.badReference", reference);
    const payload = payloadOf(kind.value, status);
    if (payload === null) return;
    if (!HASH.test(hash.value.trim())) return invalid(status, "dashboard.desk.badHash", hash);
    if (!consent.checked) return invalid(status, "dashboard.desk.act.needConsent", consent);
    const body = {
      resident: { reference: reference.value.trim() },
      kind: kind.value,
      payload,
      consentHash: hash.value.trim(),
    };
    button.disabled = true;
    shown.textContent = "";
    say(status, () => t("dashboard.call.preparing"));
    try {
      const answer = await api<DeskAnswer>("/v1/staff/desk/actions", { method: "POST", body });
      const ids = { id: answer.id, resident: answer.resident };
      shown.textContent = t("dashboard.desk.act.actionId", ids);
      const action = await settle(answer.id, status, $("#desk-act-proof"));
      if (action.status === "confirmed") {
        say(status, () => t("dashboard.desk.act.done", { block: action.blockNumber, ...ids }), "ok");
        consent.checked = false;
      }
    } catch (e) {
      say(status, () => explain(e), "bad");
    } finally {
      button.disabled = false;
    }
  });
}
