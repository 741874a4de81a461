// Joining a group by its link (`#/join/<code>`) or code: the page says what the code opens
// (the group, its organization and owner); a visitor registers or signs in and lands in that
// organization and group in one step; a signed-in student joins with one button.

import { api, currentUser, reloadUser, signIn } from "./api.js";
import { alertBox, announce, errorText, field, focusHeading, h, heading, replace } from "./dom.js";
import { go } from "./router.js";

/** Shows the API's field errors under their fields; answers whether any was placed. */
function fieldErrors(err, fields) {
  const body = err.body || {};
  let first = null;
  for (const [name, f] of Object.entries(fields)) {
    if (!Array.isArray(body[name])) continue;
    f.error.textContent = body[name].join(" ");
    f.error.hidden = false;
    f.control.setAttribute("aria-invalid", "true");
    f.control.setAttribute("aria-describedby", f.error.id);
    first ||= f.control;
  }
  first?.focus();
  return !!first;
}

function clearErrors(fields) {
  for (const f of Object.values(fields)) {
    f.error.hidden = true;
    f.control.removeAttribute("aria-invalid");
  }
}

export function joinView(main, code) {
  const title = heading("Join a group");
  const alert = alertBox();
  const body = h("div", {}, h("p", {}, "Loading…"));
  main.append(title, alert.el, body);

  const joined = async (invitation) => {
    await api("POST", `/api/join/${encodeURIComponent(code)}/`);
    await reloadUser();
    sessionStorage.setItem("testit.joined", `You joined ${invitation.group.name} at ${invitation.organization.name}.`);
    announce(`You joined ${invitation.group.name}.`);
    go("/");
  };

  const joinButton = (invitation) => {
    const button = h("button", { type: "button", class: "primary" }, `Join ${invitation.group.name}`);
    button.addEventListener("click", async () => {
      alert.clear();
      button.disabled = true;
      try {
        await joined(invitation);
      } catch (err) {
        alert.show(errorText(err));
        button.disabled = false;
        button.focus();
      }
    });
    return button;
  };

  const registerForm = (invitation) => {
    const first = field("First name", { name: "first_name", autocomplete: "given-name", required: true });
    const last = field("Last name", { name: "last_name", autocomplete: "family-name", required: true });
    const email = field("Email", { type: "email", name: "email", autocomplete: "email", required: true });
    const password = field("Password", { type: "password", name: "password", autocomplete: "new-password", required: true }, "At least 8 characters.");
    const fields = { first_name: first, last_name: last, email, password };
    const button = h("button", { type: "submit" }, "Register and join");
    const form = h("form", { class: "card narrow", novalidate: true, "aria-labelledby": "join-register-h" },
      h("h2", { id: "join-register-h" }, "New to TestIT? Register"), first.el, last.el, email.el, password.el, button);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      alert.clear();
      clearErrors(fields);
      const says = { first_name: "Enter your first name.", last_name: "Enter your last name.", email: "Enter your email.", password: "Choose a password." };
      const values = {
        first_name: first.control.value.trim(), last_name: last.control.value.trim(),
        email: email.control.value.trim(), password: password.control.value,
      };
      const blank = Object.keys(fields).filter((name) => !values[name]);
      if (blank.length) {
        fieldErrors({ body: Object.fromEntries(blank.map((name) => [name, [says[name]]])) }, fields);
        return;
      }
      button.disabled = true;
      try {
        await api("POST", "/api/users/", { ...values, is_teacher: false });
        await signIn(values.email, values.password);
        await joined(invitation);
      } catch (err) {
        if (!fieldErrors(err, fields)) alert.show(errorText(err));
        if (Array.isArray(err.body?.email) && err.body.email.some((m) => /already exists/i.test(m))) {
          replace(email.error, "An account with this email already exists: sign in below instead.");
        }
      } finally {
        button.disabled = false;
      }
    });
    return form;
  };

  const signInForm = (invitation) => {
    const email = field("Email", { type: "email", name: "email", autocomplete: "username", required: true });
    const password = field("Password", { type: "password", name: "password", autocomplete: "current-password", required: true });
    const button = h("button", { type: "submit" }, "Sign in and join");
    const form = h("form", { class: "card narrow", novalidate: true, "aria-labelledby": "join-signin-h" },
      h("h2", { id: "join-signin-h" }, "Have an account? Sign in"), email.el, password.el, button,
      h("p", {}, h("a", { href: "#/forgot" }, "Forgot your password?")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      alert.clear();
      if (!email.control.value.trim() || !password.control.value) {
        alert.show("Enter your email and password.");
        (email.control.value.trim() ? password : email).control.focus();
        return;
      }
      button.disabled = true;
      try {
        await signIn(email.control.value.trim(), password.control.value);
      } catch (err) {
        alert.show(err.status === 401 ? "Wrong email or password. Check both and try again." : errorText(err));
        password.control.focus();
        button.disabled = false;
        return;
      }
      const user = currentUser();
      if (user?.is_teacher || user?.is_teacher_pending) {
        // Signed in, but a join link is not for them: say so on the page of the link.
        button.disabled = false;
        go(`/join/${code}`);
        return;
      }
      try {
        await joined(invitation);
      } catch (err) {
        alert.show(errorText(err));
        button.disabled = false;
      }
    });
    return form;
  };

  api("GET", `/api/join/${encodeURIComponent(code)}/`).then((invitation) => {
    const { group, organization, owner_name: owner } = invitation;
    title.textContent = `Join ${group.name}`;
    document.title = `Join ${group.name} · TestIT`;
    const user = currentUser();
    const about = h("div", { class: "card invitation" },
      h("p", {}, "This link puts you in the group ", h("strong", {}, group.name), " of ", h("strong", {}, organization.name),
        owner ? ` (run by ${owner})` : "", "."),
      organization.description ? h("p", { class: "note" }, organization.description) : null,
      group.description ? h("p", { class: "note" }, group.description) : null);
    let action;
    if (!user) {
      action = h("div", { class: "join-forms" }, registerForm(invitation), signInForm(invitation));
    } else if (user.is_teacher || user.is_teacher_pending) {
      action = h("p", { class: "note" }, "Join links are for students. A teacher joins an organization by registering as a teacher of it; its owner confirms them.");
    } else if (user.organization && user.organization.id !== organization.id) {
      action = h("p", { class: "alert" }, `You belong to another organization (${user.organization.name}): this link cannot move you. Ask your teacher.`);
    } else {
      action = h("div", {}, h("p", {}, `Signed in as ${user.email}.`), joinButton(invitation));
    }
    replace(body, about, action);
  }).catch((err) => {
    title.textContent = "This join link does not work";
    document.title = "This join link does not work · TestIT";
    replace(body, h("p", { class: "alert", role: "alert" }, errorText(err)),
      h("p", {}, h("a", { href: "#/" }, "Back to the start")));
    focusHeading(main);
  });
}
