// Navigation the views share: `go(path)`, where a user lands after signing in, and the guard
// a view sets while it holds unsaved changes. It imports no view, so views importing it make
// no import cycle with app.js (which listens for the hash changes `go` makes).

/** Shows `path` (`/tests`, …); the same path again renders its view afresh. */
export function go(path) {
  if (location.hash === `#${path}`) window.dispatchEvent(new HashChangeEvent("hashchange"));
  else location.hash = path;
}

export function home(user) {
  return user?.is_teacher ? "/tests" : "/";
}

/** After signing in: back where the user was sent away from, or home. */
export function afterSignIn(user) {
  const after = sessionStorage.getItem("testit.after");
  sessionStorage.removeItem("testit.after");
  go(after || home(user));
}

let leaving = null;

/**
 * While `check()` answers a question ("Leave without saving?"), leaving the view (in-app
 * links, the browser's Back, closing or reloading the tab) asks it first. `null` clears.
 */
export function guardLeaving(check) {
  leaving = check;
}

/** The question to ask before leaving the current view, if any. */
export function leaveQuestion() {
  return leaving?.() || null;
}

window.addEventListener("beforeunload", (event) => {
  if (leaveQuestion()) event.preventDefault();
});
