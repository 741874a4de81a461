// Sign-in and registration (teachers create an organization or ask to join one; students
// join one).

import { api, reloadUser, signIn } from "./api.js";
import { alertBox, errorText, field, focusHeading, h, heading, replace } from "./dom.js";
import { afterSignIn } from "./router.js";

/** `/` for visitors: what TestIT is and for whom, beside signing in and registering. */
export function landingView(main) {
  main.append(heading("TestIT: online tests for schools"),
    h("div", { class: "landing" },
      h("section", { class: "card", "aria-labelledby": "for-teachers" },
        h("h2", { id: "for-teachers" }, "For teachers"),
        h("p", {}, "Write tests with text, choice and Python code questions; give them to your groups with a link; watch your students answer live; download the results."),
        h("p", {}, h("a", { class: "button primary", href: "#/register" }, "Register your school"))),
      h("section", { class: "card", "aria-labelledby": "for-students" },
        h("h2", { id: "for-students" }, "For students"),
        h("p", {}, "Open the join link your teacher gives you to get into your group, then take tests in the browser: every answer is saved as you give it."),
        h("p", {}, h("a", { class: "button", href: "#/register" }, "Register"), " ", h("a", { class: "button", href: "#/signin" }, "Sign in")))),
    h("p", {}, "Already registered? ", h("a", { href: "#/signin" }, "Sign in")));
}

export function signInView(main) {
  const email = field("Email", { type: "email", name: "email", autocomplete: "username", required: true });
  const password = field("Password", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const alert = alertBox();
  const button = h("button", { type: "submit" }, "Sign in");
  const form = h("form", { class: "card narrow", novalidate: true }, alert.el, email.el, password.el, button,
    h("p", {}, "No account yet? ", h("a", { href: "#/register" }, "Register")),
    h("p", {}, h("a", { href: "#/forgot" }, "Forgot your password?")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    alert.clear();
    if (!email.control.value || !password.control.value) {
      alert.show("Enter your email and password.");
      (email.control.value ? password : email).control.focus();
      return;
    }
    button.disabled = true;
    try {
      const user = await signIn(email.control.value.trim(), password.control.value);
      afterSignIn(user);
    } catch (err) {
      // 401 for an unknown email and a wrong password alike (the server does not say
      // which); 429 after too many tries, whose detail says how long to wait.
      alert.show(err.status === 401 ? "Wrong email or password. Check both and try again." : errorText(err));
      password.control.focus();
    } finally {
      button.disabled = false;
    }
  });
  main.append(heading("Sign in"), form);
}

export function registerView(main) {
  const alert = alertBox();
  const first = field("First name", { name: "first_name", autocomplete: "given-name", required: true });
  const last = field("Last name", { name: "last_name", autocomplete: "family-name", required: true });
  const email = field("Email", { type: "email", name: "email", autocomplete: "email", required: true });
  const password = field("Password", { type: "password", name: "password", autocomplete: "new-password", required: true }, "At least 8 characters.");
  const fields = { first_name: first, last_name: last, email, password };

  const role = (value, label, checked) => {
    const id = `role-${value}`;
    return h("div", { class: "choice" },
      h("input", { type: "radio", name: "role", id, value, checked }),
      h("label", { for: id }, label));
  };
  const roles = h("fieldset", {}, h("legend", {}, "I am"), role("student", "a student", true), role("teacher", "a teacher"));

  const orgSelect = field("Organization to join", { tag: "select", name: "organization", options: [h("option", { value: "" }, "Loading…")] },
    "Students: a join link from your teacher puts you in your group at once; open it instead.");
  const orgMode = (value, label, checked) => {
    const id = `org-${value}`;
    return h("div", { class: "choice" },
      h("input", { type: "radio", name: "org-mode", id, value, checked }),
      h("label", { for: id }, label));
  };
  const orgModes = h("fieldset", { hidden: true }, h("legend", {}, "Organization"),
    orgMode("create", "Create a new organization (you will own it)", true),
    orgMode("join", "Join an existing one (its owner confirms you as a teacher)"));
  const orgName = field("Organization name", { name: "organization_name", autocomplete: "organization" });

  const button = h("button", { type: "submit" }, "Register");
  const form = h("form", { class: "card narrow", novalidate: true }, alert.el, first.el, last.el, email.el, password.el,
    roles, orgModes, orgName.el, orgSelect.el, button,
    h("p", {}, "Already registered? ", h("a", { href: "#/signin" }, "Sign in")));

  const value = (name) => form.querySelector(`input[name="${name}"]:checked`)?.value;
  const update = () => {
    const teacher = value("role") === "teacher";
    orgModes.hidden = !teacher;
    const creating = teacher && value("org-mode") === "create";
    orgName.el.hidden = !creating;
    orgSelect.el.hidden = creating;
  };
  form.addEventListener("change", update);
  update();

  api("GET", "/api/organizations/").then((orgs) => {
    // Two schools of the same name are told apart by their description (or number).
    const names = new Map();
    for (const org of orgs) names.set(org.name, (names.get(org.name) || 0) + 1);
    const label = (org) => (names.get(org.name) > 1 ? `${org.name} (${org.description || `no. ${org.id}`})` : org.name);
    orgSelect.control.replaceChildren(
      h("option", { value: "" }, orgs.length ? "Choose…" : "No organization yet"),
      ...orgs.map((org) => h("option", { value: org.id }, label(org))),
    );
  }).catch(() => orgSelect.control.replaceChildren(h("option", { value: "" }, "Could not load organizations")));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    alert.clear();
    for (const f of [...Object.values(fields), orgName, orgSelect]) {
      f.error.hidden = true;
      f.control.removeAttribute("aria-invalid");
    }
    const teacher = value("role") === "teacher";
    const creating = teacher && value("org-mode") === "create";
    const body = {
      first_name: first.control.value.trim(),
      last_name: last.control.value.trim(),
      email: email.control.value.trim(),
      password: password.control.value,
      is_teacher: teacher,
    };
    if (!creating && orgSelect.control.value) body.organization_id = Number(orgSelect.control.value);
    const problems = [];
    const missing = (f, message) => {
      f.error.textContent = message;
      f.error.hidden = false;
      f.control.setAttribute("aria-invalid", "true");
      f.control.setAttribute("aria-describedby", f.error.id);
      problems.push(f);
    };
    const says = { first_name: "Enter your first name.", last_name: "Enter your last name.", email: "Enter your email.", password: "Choose a password." };
    for (const [name, f] of Object.entries(fields)) if (!body[name]) missing(f, says[name]);
    if (creating && !orgName.control.value.trim()) missing(orgName, "Name your organization.");
    if (!creating && !body.organization_id) missing(orgSelect, "Choose your school's organization.");
    if (problems.length) {
      problems[0].control.focus();
      return;
    }
    button.disabled = true;
    try {
      await api("POST", "/api/users/", body);
      await signIn(body.email, body.password);
      if (creating) {
        await api("POST", "/api/organizations/", { name: orgName.control.value.trim() });
      }
      afterSignIn(await reloadUser());
    } catch (err) {
      const body = err.body || {};
      let shown = false;
      for (const [name, f] of Object.entries({ ...fields, organization_id: orgSelect, name: orgName })) {
        if (Array.isArray(body[name])) {
          missing(f, body[name].join(" "));
          shown = true;
        }
      }
      // The server's "user with this email already exists." leaves the person guessing
      // what to do: most likely they registered before, so offer to sign in.
      if (Array.isArray(body.email) && body.email.some((m) => /already exists/i.test(m))) {
        replace(email.error, "An account with this email already exists. ",
          h("a", { href: "#/signin" }, "Sign in"), " instead, or use another email.");
      }
      if (!shown) alert.show(errorText(err));
      else problems[0]?.control.focus();
    } finally {
      button.disabled = false;
    }
  });
  main.append(heading("Register"), form);
}

// Forgotten passwords, through seed 000's reset: the server emails a link to
// `#/password-reset/<uid>/<token>` (the token stays in the fragment, which no server or log
// sees) and answers the same whether or not the address has an account.

export function forgotView(main) {
  const email = field("Email", { type: "email", name: "email", autocomplete: "username", required: true });
  const alert = alertBox();
  const button = h("button", { type: "submit" }, "Email me a link");
  const form = h("form", { class: "card narrow", novalidate: true }, alert.el,
    h("p", {}, "Enter the email you registered with. We send it a link to set a new password."),
    email.el, button, h("p", {}, h("a", { href: "#/signin" }, "Back to sign in")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    alert.clear();
    if (!email.control.value.trim()) {
      alert.show("Enter your email.");
      email.control.focus();
      return;
    }
    button.disabled = true;
    try {
      await api("POST", "/api/v1/user/password/reset/", { email: email.control.value.trim() });
      main.querySelector("h1").textContent = "Check your email";
      document.title = "Check your email · TestIT";
      replace(form, h("p", { role: "status" },
        "If an account has this address, a link to set a new password is on its way. It works once, for an hour."),
        h("p", {}, h("a", { href: "#/signin" }, "Back to sign in")));
      focusHeading(main);
    } catch (err) {
      alert.show(errorText(err));
      button.disabled = false;
    }
  });
  main.append(heading("Forgot your password?"), form);
}

export function resetView(main, uid, token) {
  const first = field("New password", { type: "password", name: "new_password1", autocomplete: "new-password", required: true },
    "At least 8 characters.");
  const second = field("New password again", { type: "password", name: "new_password2", autocomplete: "new-password", required: true });
  const alert = alertBox();
  const button = h("button", { type: "submit" }, "Set the password");
  const form = h("form", { class: "card narrow", novalidate: true }, alert.el, first.el, second.el, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    alert.clear();
    if (first.control.value !== second.control.value) {
      alert.show("The two passwords differ: type the same one twice.");
      second.control.focus();
      return;
    }
    button.disabled = true;
    try {
      await api("POST", "/api/v1/user/password/reset/confirm/", {
        uid: Number(uid), token, new_password1: first.control.value, new_password2: second.control.value,
      });
      main.querySelector("h1").textContent = "Your new password is set";
      document.title = "Your new password is set · TestIT";
      replace(form, h("p", { role: "status" }, "Your new password is set. Every earlier sign-in has ended."),
        h("p", {}, h("a", { href: "#/signin" }, "Sign in with it")));
      focusHeading(main);
    } catch (err) {
      const body = err.body || {};
      // A dead link cannot be mended here: say how to get a new one.
      alert.show(body.token
        ? "This link does not work any more (used, expired, or replaced by a newer one). Ask for a new one below."
        : errorText(err));
      if (body.token) form.append(h("p", {}, h("a", { href: "#/forgot" }, "Email me a new link")));
      button.disabled = false;
    }
  });
  main.append(heading("Set a new password"), form);
}
