// Shared helpers for the three pages. No build step, no third-party code.
"use strict";

async function api(path, options = {}) {
  const response = await fetch(path, {headers: {"content-type": "application/json"},
    signal: AbortSignal.timeout(15000), ...options});
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    // RFC 9457 problem details: `detail` says what is wrong, `field` names the input at fault
    const detail = body.detail || body.title || `HTTP ${response.status}`;
    throw new Error(body.field ? `${body.field}: ${detail}` : detail);
  }
  return body;
}

async function rpc(url, method, params) {
  const response = await fetch(url, {method: "POST", headers: {"content-type": "application/json"},
    body: JSON.stringify({jsonrpc: "2.0", id: 1, method, params})});
  const body = await response.json();
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

const fmt = {
  int: (n) => Number(n).toLocaleString(),
  kg: (g) => (Number(g) / 1000).toLocaleString(undefined, {maximumFractionDigits: 1}),
  km: (m) => (Number(m) / 1000).toLocaleString(undefined, {maximumFractionDigits: 1}),
  time: (s) => new Date(Number(s) * 1000).toLocaleString(),
  short: (h) => h ? `${h.slice(0, 10)}…${h.slice(-6)}` : "",
};

function say(id, text, good = true) {
  const el = document.getElementById(id);
  el.textContent = text;
  el.className = good ? "ok" : "bad";
}

function sessionRows(sessions) {
  return sessions.map((s) => `<tr><td>${fmt.time(s.startedAt)}</td><td>${fmt.km(s.distanceMeters)} km</td>
    <td>${fmt.kg(s.trashGrams)} kg</td><td>${fmt.int(s.reward)}</td><td>${s.status}</td>
    <td><code title="${s.txHash}">${fmt.short(s.txHash)}</code> #${s.blockNumber}</td></tr>`).join("");
}
