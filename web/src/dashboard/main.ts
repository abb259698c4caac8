// The ESG team's workspace: sign-in, then the work the member's on-chain roles allow (verification,
// feedback and the answers due, desk enrolment), the charts and the programme's totals.
import { applyTranslations, t } from "../i18n";
import { initPage, ready } from "../page";
import { $, copyable, el, say } from "../ui";
import * as charts from "./charts";
import * as desk from "./desk";
import * as feedback from "./feedback";
import * as overview from "./overview";
import { initSignIn, resume, signOut } from "./session";
import { can, explain, setStaff, staff, type Staff } from "./staff";
import * as verification from "./verification";

const WORK: Array<{ id: string; roles: string[]; refresh?: () => Promise<void> }> = [
  { id: "verification", roles: ["verifier"], refresh: verification.refreshQueue },
  { id: "feedback", roles: ["reviewer", "moderator"], refresh: feedback.refreshFeedback },
  { id: "desk", roles: ["enroller"] },
];

function renderMe(): void {
  const s = staff();
  $("#signin").hidden = !!s;
  $("#me").hidden = !s;
  for (const w of WORK) $(`#${w.id}`).hidden = !can(...w.roles);
  if (!s) return;
  $("#me-name").textContent = s.name;
  $("#me-mode").textContent = t(s.custodial ? "dashboard.me.custodial" : "dashboard.me.wallet");
  $("#me-address").replaceChildren(copyable(s.address, t("dashboard.me.address")));
  $("#me-roles").replaceChildren(
    ...(s.roles.length ? s.roles.map((r) => el("span", { class: "badge", text: t(`dashboard.roles.${r}`, { defaultValue: r }) })) : [t("dashboard.me.noRoles")]),
  );
  $("#me-areas").textContent = s.areas === null ? t("dashboard.me.allAreas") : s.areas.join(", ");
  $("#me-nav").replaceChildren(
    ...WORK.filter((w) => can(...w.roles)).map((w) => el("li", {}, el("a", { href: `#${w.id}-h`, text: $(`#${w.id}-h`).textContent ?? w.id }))),
  );
}

async function signedIn(s: Staff | null, focus: boolean): Promise<void> {
  setStaff(s);
  renderMe();
  await Promise.all([charts.refreshCharts(), ...WORK.filter((w) => s && can(...w.roles) && w.refresh).map((w) => w.refresh!())]);
  if (focus) $(s ? "#me-h" : "#signin-h").focus();
}

async function main(): Promise<void> {
  await initPage(() => {
    renderMe();
    overview.rerender();
    charts.rerender();
    if (can("verifier")) verification.rerender();
    if (can("reviewer", "moderator")) feedback.rerender();
  });
  initSignIn((s) => void signedIn(s, true));
  verification.initVerification();
  feedback.initFeedback();
  desk.initDesk();
  desk.initDeskActing();
  $("#sign-out").addEventListener("click", async () => {
    try {
      await signOut();
    } catch {
      /* the session ends on the server anyway when it expires; the page forgets it now */
    }
    await signedIn(null, true);
    say($("#signin-status"), () => t("dashboard.signin.signedOut"), "ok");
  });
  overview.initOverview();
  try {
    await signedIn(await resume(), false);
  } catch (e) {
    await signedIn(null, false);
    say($("#signin-status"), () => explain(e), "bad");
  }
  applyTranslations(document);
  ready();
}

void main();
