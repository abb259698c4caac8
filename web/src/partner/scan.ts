// Taking a redemption: the resident's QR (the camera, decoded by jsQR) or the pasted request text;
// a preview (resident, amount, balance, would it be accepted); then accept, and follow it to the chain.
import jsQR from "jsqr";
import { follow } from "../actions";
import { describe, type Action } from "../api";
import { failure } from "../failures";
import { fmtInt, fmtTime, t } from "../i18n";
import { $, copyable, say, showProof } from "../ui";
import { partnerApi } from "./key";

const PREFIX = "esg:redeem:v1:";

interface Preview {
  id: string;
  resident: string;
  amount: number;
  balance: number;
  deadline: number;
  acceptable: boolean;
  refusal: { code: string; message: string; field: string | null } | null;
  action: { id: string; status: string } | null;
}

let stream: MediaStream | null = null;
let shown: Preview | null = null;
let onAccepted: () => void = () => {};

function stopCamera(): void {
  for (const track of stream?.getTracks() ?? []) track.stop();
  stream = null;
  $("#camera").hidden = true;
  $("#camera-stop").hidden = true;
  $("#camera-start").hidden = false;
}

async function startCamera(): Promise<void> {
  const status = $("#camera-status");
  const video = $<HTMLVideoElement>("#camera");
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
  } catch {
    say(status, () => t("partnerDesk.scan.noCamera"), "bad");
    $("#request").focus();
    return;
  }
  video.srcObject = stream;
  video.hidden = false;
  $("#camera-start").hidden = true;
  $("#camera-stop").hidden = false;
  await video.play();
  say(status, () => t("partnerDesk.scan.looking"));
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  const look = () => {
    if (!stream || !context) return;
    if (video.videoWidth) {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      context.drawImage(video, 0, 0);
      const code = jsQR(context.getImageData(0, 0, canvas.width, canvas.height).data, canvas.width, canvas.height);
      if (code?.data) {
        if (!code.data.startsWith(PREFIX)) say(status, () => t("partnerDesk.scan.notRequest"), "bad");
        else {
          stopCamera();
          $<HTMLTextAreaElement>("#request").value = code.data;
          say(status, () => t("partnerDesk.scan.found"), "ok");
          void preview();
          return;
        }
      }
    }
    requestAnimationFrame(look);
  };
  requestAnimationFrame(look);
}

function request(): string {
  return $<HTMLTextAreaElement>("#request").value.trim();
}

function render(): void {
  const p = shown;
  $("#preview").hidden = !p;
  if (!p) return;
  $("#pv-amount").textContent = t("partnerDesk.scan.points", { amount: fmtInt(p.amount) });
  $("#pv-balance").textContent = t("partnerDesk.scan.points", { amount: fmtInt(p.balance) });
  $("#pv-resident").replaceChildren(copyable(p.resident, t("partnerDesk.scan.resident")));
  $("#pv-deadline").textContent = fmtTime(p.deadline);
  const verdict = $("#pv-verdict");
  if (p.action) say(verdict, () => t("partnerDesk.scan.already", { status: t(`partnerDesk.history.status.${p.action!.status}`) }));
  else if (p.acceptable) say(verdict, () => t("partnerDesk.scan.acceptable"), "ok");
  else {
    const r = p.refusal;
    const where = r?.field ? t("errors.field", { field: r.field }) : "";
    say(verdict, () => t("partnerDesk.scan.refused", { reason: r ? t(`errors.${r.code}`, { where, defaultValue: r.message }) : "" }), "bad");
  }
  $("#accept").hidden = !p.acceptable || !!p.action;
}

async function preview(): Promise<void> {
  const status = $("#scan-status");
  shown = null;
  render();
  showProof($("#scan-proof"), null);
  if (!request().startsWith(PREFIX)) return say(status, () => t("partnerDesk.scan.notRequest"), "bad");
  say(status, () => t("partnerDesk.scan.previewing"));
  try {
    shown = await partnerApi<Preview>("/v1/partner/redemptions/preview", { method: "POST", body: { request: request() } });
    say(status, "");
    render();
  } catch (e) {
    say(status, () => describe(e), "bad");
  }
}

function sayAction(status: HTMLElement, a: Action): void {
  if (a.status === "confirmed") say(status, () => t("status.confirmed", { block: a.blockNumber }), "ok");
  else if (a.status === "failed") say(status, () => t("status.failed", { reason: failure(a.error) }), "bad");
  else say(status, () => t(`status.${a.status}`));
}

async function accept(): Promise<void> {
  const status = $("#scan-status");
  const button = $<HTMLButtonElement>("#accept");
  button.disabled = true;
  say(status, () => t("partnerDesk.scan.accepting"));
  try {
    const { id } = await partnerApi<{ id: string }>("/v1/partner/redemptions", { method: "POST", body: { request: request() } });
    button.hidden = true;
    onAccepted();
    const action = await follow(id, (a) => {
      sayAction(status, a);
      showProof($("#scan-proof"), a);
    });
    if (action.status !== "confirmed" && action.status !== "failed") say(status, () => t("status.still"));
    onAccepted();
  } catch (e) {
    say(status, () => describe(e), "bad");
  } finally {
    button.disabled = false;
  }
}

export function initScan(accepted: () => void): void {
  onAccepted = accepted;
  $("#camera-start").addEventListener("click", () => void startCamera());
  $("#camera-stop").addEventListener("click", stopCamera);
  $<HTMLFormElement>("#request-form").addEventListener("submit", (event) => {
    event.preventDefault();
    void preview();
  });
  $("#accept").addEventListener("click", () => void accept());
}

export function rerender(): void {
  render();
}

export function reset(): void {
  stopCamera();
  shown = null;
  $<HTMLTextAreaElement>("#request").value = "";
  render();
}
