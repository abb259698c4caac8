// The partner shop: the resident signs a redemption and shows it as a QR code; the partner's desk scans
// it and accepts it. The payload is the API's compact request (POST /v1/redemption-requests, which checks
// the signature and answers `esg:redeem:v1:…`); an API without that route gets the signed action as JSON
// {typedData, signature}, exactly what POST /v1/actions accepts.
import { id as keccakText } from "ethers";
import QRCode from "qrcode";
import { signOnly } from "../actions";
import { ApiError, api, describe, type Page } from "../api";
import { fmtTime, t } from "../i18n";
import { $, copyable, el, say } from "../ui";
import { needSigner } from "./walletPanel";
import { explain } from "./run";

interface Partner {
  address: string;
  name: string | null;
  active: boolean;
}

let partners: Partner[] = [];

function fill(): void {
  const select = $<HTMLSelectElement>("#shop-partner");
  const chosen = select.value;
  select.replaceChildren(...partners.map((p) => el("option", { value: p.address, text: p.name ?? p.address })));
  if (chosen) select.value = chosen;
  const none = !partners.length;
  $<HTMLButtonElement>("#shop-form button[type=submit]").disabled = none;
  if (none) say($("#shop-status"), () => t("shop.none"));
}

async function load(): Promise<void> {
  try {
    partners = (await api<Page<Partner>>("/v1/partners?active=true&limit=200")).items;
    say($("#shop-status"), "");
    fill();
  } catch (e) {
    say($("#shop-status"), () => describe(e), "bad");
  }
}

async function make(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const status = $("#shop-status");
  const partner = $<HTMLSelectElement>("#shop-partner").value;
  const amount = Number($<HTMLInputElement>("#shop-amount").value);
  const offer = $<HTMLInputElement>("#shop-offer").value.trim();
  if (!partner || !Number.isInteger(amount) || amount < 1 || !offer) return say(status, () => t("shop.invalid"), "bad");
  const signer = needSigner(status);
  if (!signer) return;
  const button = $<HTMLButtonElement>("#shop-form button[type=submit]");
  button.disabled = true;
  try {
    say(status, () => t("status.signing"));
    const signed = await signOnly(signer, "redemption", { partner, amount, offerHash: keccakText(offer) });
    let payload = JSON.stringify(signed);
    let compact: { request: string; id: string; deadline: number } | null = null;
    try {
      compact = await api<{ request: string; id: string; deadline: number }>("/v1/redemption-requests", { method: "POST", body: signed });
      payload = compact.request;
    } catch (e) {
      if (!(e instanceof ApiError && (e.status === 404 || e.status === 405))) throw e;
    }
    const url = await QRCode.toDataURL(payload, { errorCorrectionLevel: compact ? "M" : "L", margin: 2, width: 320 });
    $<HTMLImageElement>("#shop-qr-image").src = url;
    const caption = $("#shop-qr figcaption");
    caption.replaceChildren(el("span", { text: t(compact ? "shop.qrNote" : "shop.qrNoteJson") }));
    if (compact) {
      caption.append(
        el("br"),
        el("span", { text: t("shop.deadline", { when: fmtTime(compact.deadline) }) }),
        el("br"),
        el("span", { class: "label", text: t("common.actionId") }),
        " ",
        copyable(compact.id, t("common.actionId")),
      );
    }
    $("#shop-qr").hidden = false;
    say(status, "");
  } catch (e) {
    say(status, () => explain(e), "bad");
  } finally {
    button.disabled = false;
  }
}

export function init(): void {
  $<HTMLFormElement>("#shop-form").addEventListener("submit", (e) => void make(e));
}

export function open(): void {
  void load();
}

export function rerender(): void {
  if (!$("#panel-shop").hidden) fill();
}
