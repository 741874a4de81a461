// The app's entry: a hash router (`#/take/<uuid>`, …: the server serves one page, and every
// other path below /app/ is a 404), the navigation, and the views' lifecycles.

import { currentUser, onSession, signOut } from "./api.js";
import { h, heading, replace } from "./dom.js";
import { forgotView, landingView, registerView, resetView, signInView } from "./auth.js";
import { resultView, studentHome, takeView } from "./student.js";
import { groupsView, testsView } from "./teacher.js";
import { editorView } from "./editor.js";
import { watchView } from "./watch.js";
import { joinView } from "./join.js";
import { go, guardLeaving, home, leaveQuestion } from "./router.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
let cleanup = null;

const routes = [
  [/^\/signin$/, signInView, "anyone"],
  [/^\/register$/, registerView, "anyone"],
  [/^\/forgot$/, forgotView, "anyone"],
  [/^\/password-reset\/(\d+)\/([0-9a-f]{64})$/, resetView, "anyone"],
  [/^\/take\/([0-9a-fA-F-]+)$/, takeView, "user"],
  [/^\/result\/(\d+)$/, resultView, "user"],
  [/^\/tests$/, testsView, "teacher"],
  [/^\/tests\/new$/, editorView, "teacher"],
  [/^\/tests\/(\d+)$/, editorView, "teacher"],
  [/^\/tests\/(\d+)\/watch$/, watchView, "teacher"],
  [/^\/groups$/, groupsView, "teacher"],
  [/^\/join\/([A-Za-z0-9-]{1,40})$/, joinView, "everyone"],
];

function renderNav(user) {
  const links = [];
  if (user) {
    if (user.is_teacher) {
      links.push(h("a", { href: "#/tests" }, "Tests"), h("a", { href: "#/groups" }, "Groups"));
    } else {
      links.push(h("a", { href: "#/" }, "My tests"));
    }
    links.push(
      h("span", { class: "who" }, user.first_name || user.email),
      h("button", { type: "button", class: "link", onclick: async () => { await signOut(); go("/signin"); } }, "Sign out"),
    );
  } else {
    links.push(h("a", { href: "#/signin" }, "Sign in"), h("a", { href: "#/register" }, "Register"));
  }
  replace(nav, links);
  const here = location.hash || "#/";
  for (const a of nav.querySelectorAll("a")) {
    if (a.getAttribute("href") === here) a.setAttribute("aria-current", "page");
  }
}

/** Focus on the view's heading (or the main area), so that keyboards and screen readers start there. */
function focusMain() {
  const title = main.querySelector("h1");
  (title || main).focus({ preventScroll: true });
}

// The path shown, so that a refused leave can put it back.
let shown = null;
// The user already said yes to leaving (asked when they followed a link).
let leaveConfirmed = false;

// A link within the app, followed while the view has unsaved changes, asks first: refused,
// the address does not change at all.
document.addEventListener("click", (event) => {
  const link = event.target.closest?.('a[href^="#/"]');
  if (!link || event.defaultPrevented || link.getAttribute("href") === `#${shown}`) return;
  const question = leaveQuestion();
  if (!question) return;
  if (window.confirm(question)) leaveConfirmed = true;
  else event.preventDefault();
}, true);

function render() {
  const path = location.hash.replace(/^#/, "") || "/";
  const confirmed = leaveConfirmed;
  leaveConfirmed = false;
  if (shown !== null && path !== shown && !confirmed) {
    // The browser's Back or Forward, or an address typed: asked now.
    const question = leaveQuestion();
    if (question && !window.confirm(question)) {
      // Stay: the address goes back to the view that is still shown.
      history.replaceState(null, "", `#${shown}`);
      return;
    }
  }
  guardLeaving(null);
  shown = path;
  const user = currentUser();
  cleanup?.();
  cleanup = null;
  renderNav(user);
  let view = null;
  let params = [];
  if (path === "/") {
    if (!user) view = landingView;
    else if (user.is_teacher) return go("/tests");
    else view = studentHome;
  } else {
    const match = routes.find(([pattern]) => pattern.test(path));
    if (!match) {
      replace(main, heading("Not found"), h("p", {}, "There is no page at this address."),
        h("p", {}, h("a", { href: "#/" }, "Back to the start")));
      main.dataset.view = "notFound";
      focusMain();
      return;
    }
    const [pattern, found, who] = match;
    if ((who === "user" || who === "teacher") && !user) {
      sessionStorage.setItem("testit.after", path);
      return go("/signin");
    }
    if (who === "teacher" && !user.is_teacher) return go(home(user));
    if (who === "anyone" && user) return go(home(user));
    view = found;
    params = pattern.exec(path).slice(1);
  }
  replace(main);
  main.dataset.view = view.name;
  const result = view(main, ...params);
  cleanup = typeof result === "function" ? result : null;
  if (!main.contains(document.activeElement) || document.activeElement === main) focusMain();
}

// "Skip to content" moves focus to the main area and keeps the view (its `#main` is not a
// route).
document.querySelector(".skip")?.addEventListener("click", (event) => {
  event.preventDefault();
  focusMain();
});

window.addEventListener("hashchange", () => {
  if (location.hash === "#main") {
    history.replaceState(null, "", `#${shown ?? "/"}`);
    focusMain();
    return;
  }
  render();
});
onSession((user) => { if (!user) renderNav(null); });
render();
