// The app's entry: a hash router (`#/take/<uuid>`, …: the server serves one page, and every
// other path below /app/ is a 404), the navigation, and the views' lifecycles.

import { currentUser, onSession, signOut } from "./api.js";
import { h, replace } from "./dom.js";
import { forgotView, registerView, resetView, signInView } from "./auth.js";
import { resultView, studentHome, takeView } from "./student.js";
import { groupsView, testsView } from "./teacher.js";
import { editorView } from "./editor.js";
import { watchView } from "./watch.js";

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
];

export function go(path) {
  if (location.hash === `#${path}`) render();
  else location.hash = path;
}

function home(user) {
  return user?.is_teacher ? "/tests" : "/";
}

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

function render() {
  const path = location.hash.replace(/^#/, "") || "/";
  const user = currentUser();
  cleanup?.();
  cleanup = null;
  renderNav(user);
  let view = null;
  let params = [];
  if (path === "/") {
    if (!user) return go("/signin");
    if (user.is_teacher) return go("/tests");
    view = studentHome;
  } else {
    const match = routes.find(([pattern]) => pattern.test(path));
    if (!match) {
      replace(main, h("h1", { tabindex: "-1" }, "Not found"), h("p", {}, h("a", { href: "#/" }, "Back to the start")));
      return;
    }
    const [pattern, found, who] = match;
    if (who !== "anyone" && !user) {
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
  const title = main.querySelector("h1");
  if (title && document.activeElement !== title && !main.contains(document.activeElement)) {
    title.focus({ preventScroll: true });
  }
}

/** After signing in: back where the user was sent away from, or home. */
export function afterSignIn(user) {
  const after = sessionStorage.getItem("testit.after");
  sessionStorage.removeItem("testit.after");
  go(after || home(user));
}

window.addEventListener("hashchange", render);
onSession((user) => { if (!user) renderNav(null); });
render();
