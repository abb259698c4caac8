// Desk mode: a staff member with the enroller role enrols a resident who came to a service desk, with
// the keccak256 of the signed consent form (hashed here, in the browser; the file never leaves it) and
// the desk's party code. Acting for the resident afterwards is not offered: the API has no assisted route.
import { keccak256 } from "ethers";
import { t } from "../i18n";
import { $, say } from "../ui";
import { staffCall } from "./staff";

const PARTY = "esg.desk.party";
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const HASH = /^0x[0-9a-fA-F]{64}$/;

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
