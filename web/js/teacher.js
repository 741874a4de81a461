// Teachers: their tests (links, live view, export) and their organization's groups.

import { api, currentUser, freshAccess, reloadUser } from "./api.js";
import { alertBox, announce, errorText, field, h, heading, personName, plural, replace } from "./dom.js";

/**
 * The xlsx download: a plain link, authenticated by the HttpOnly cookie that log-in and
 * refresh set. The cookie lives as long as the access token, so a token about to expire is
 * refreshed (renewing the cookie) before the browser follows the link.
 */
export function exportLink(testId) {
  const a = h("a", { class: "button", href: `/api/tests/${testId}/completions/export/`, download: "" }, "Download results (.xlsx)");
  a.addEventListener("click", async (event) => {
    if (a.dataset.ready) {
      delete a.dataset.ready;
      return;
    }
    event.preventDefault();
    await freshAccess().catch(() => {});
    a.dataset.ready = "1";
    a.click();
  });
  return a;
}

export function testLink(test) {
  return `${location.origin}/app/#/take/${test.public_uuid}`;
}

/** The test's link, with Copy and (optionally) Regenerate buttons. */
export function linkBox(test, onRegenerated) {
  const id = `link-${test.id}`;
  const input = h("input", { id, type: "text", readonly: true, value: testLink(test), class: "link-input" });
  const copy = copyButton(input, "Copy link", "Link");
  const regenerate = onRegenerated ? h("button", {
    type: "button",
    onclick: async () => {
      const next = await api("POST", `/api/tests/${test.id}/regenerate_uuid/`);
      input.value = testLink(next);
      announce("A new link was made; the old one no longer works.");
      onRegenerated(next);
    },
  }, "New link") : null;
  return h("div", { class: "link-box" }, h("label", { for: id }, "Link for students"), h("div", { class: "row" }, input, copy, regenerate));
}

/** A copy button for the text of `input`, which says "Copied" for a moment. */
function copyButton(input, label, what) {
  const button = h("button", {
    type: "button",
    onclick: async () => {
      try {
        await navigator.clipboard.writeText(input.value);
      } catch {
        input.select();
        document.execCommand?.("copy");
      }
      announce(`${what} copied.`);
      button.firstChild.textContent = "Copied";
      setTimeout(() => { button.firstChild.textContent = label; }, 2000);
    },
  }, label);
  return button;
}

/**
 * The teachers waiting for the owner's confirmation, with a button each (shown to the
 * owner only, wherever they land: Tests and Groups). `changed()` after a confirmation.
 */
function pendingTeachers(me, alert, changed) {
  const section = h("section", { class: "card pending", hidden: true, "aria-labelledby": "pending-h" });
  const show = (users) => {
    const waiting = users.filter((u) => u.is_teacher_pending);
    const owner = me.organization && me.organization.owner === me.id;
    section.hidden = !owner || !waiting.length;
    if (section.hidden) return;
    replace(section, h("h2", { id: "pending-h" }, "Teachers waiting for confirmation"),
      h("p", { class: "note" }, "They registered as teachers of your organization. Confirm those you know: they can then see and change its groups and tests."),
      h("ul", { class: "plain" }, waiting.map((u) => h("li", {},
        `${personName(u)} (${u.email}) `,
        h("button", {
          type: "button",
          onclick: async () => {
            try {
              await api("POST", `/api/organizations/${me.organization.id}/confirm_teacher/`, { user: u.id });
              announce(`${personName(u)} is now a teacher.`);
              await changed();
            } catch (err) {
              alert.show(errorText(err));
            }
          },
        }, "Confirm as teacher", h("span", { class: "visually-hidden" }, `: ${personName(u)}`))))));
  };
  return { el: section, show };
}

const HIDDEN = (user) => `testit.checklist.hidden.${user.id}`;

/**
 * A new teacher's next steps, each ticked once the server's state shows it done: a group,
 * students in it, a test, the test available to a group, a completion (the link shared and
 * the test taken). Shown until dismissed.
 */
function checklist(me, groups, tests, taken) {
  if (localStorage.getItem(HIDDEN(me))) return null;
  const withStudents = groups.some((g) => g.members.some((m) => !m.is_teacher));
  const available = tests.find((t) => t.available_for.length);
  const steps = [
    [groups.length > 0, "Make a group for a class", "#/groups"],
    [withStudents, "Get students into it: give them the group's join link or code", "#/groups"],
    [tests.length > 0, "Write a test", "#/tests/new"],
    [!!available, "Make the test available to the group: tick the group in the test and save", tests[0] ? `#/tests/${tests[0].id}` : null],
    [taken, "Share the test's link with the students, and watch them take it live", available ? `#/tests/${available.id}/watch` : null],
  ];
  const done = steps.filter(([ok]) => ok).length;
  const box = h("section", { class: "card checklist", "aria-labelledby": "next-h" },
    h("h2", { id: "next-h" }, done === steps.length ? "All set" : "Next steps"),
    h("p", { class: "note" }, `${done} of ${steps.length} done.`),
    h("ol", { class: "steps" }, steps.map(([ok, text, href]) => h("li", { class: ok ? "done" : "todo" },
      h("span", { class: "tick", "aria-hidden": "true" }, ok ? "✓" : ""),
      h("span", {}, h("span", { class: "visually-hidden" }, ok ? "Done: " : "To do: "),
        !ok && href ? h("a", { href }, text) : text)))),
    h("button", {
      type: "button",
      onclick: () => {
        localStorage.setItem(HIDDEN(me), "1");
        box.remove();
        announce("Next steps hidden.");
        document.querySelector("main h1")?.focus();
      },
    }, "Hide these steps"));
  return box;
}

export function testsView(main) {
  const user = currentUser();
  const alert = alertBox();
  const list = h("div", {}, h("p", {}, "Loading…"));
  const steps = h("div");
  const pending = pendingTeachers(user, alert, () => load());
  // replace(), not append(): the DOM's append would print a skipped (null) child as "null".
  replace(main, heading("Tests"),
    user.organization ? h("p", { class: "org-name" }, "Organization: ", h("strong", {}, user.organization.name)) : null,
    !user.organization ? h("p", { class: "note" }, "Create or join an organization first.") : null,
    alert.el, pending.el, steps,
    h("p", {}, h("a", { class: "button primary", href: "#/tests/new" }, "New test")), list);
  const load = async () => {
    const [tests, groups, users] = await Promise.all([
      api("GET", "/api/tests/"),
      api("GET", "/api/groups/").catch(() => []),
      user.organization?.owner === user.id ? api("GET", "/api/users/").catch(() => []) : [],
    ]);
    pending.show(users);
    // A completion of a test available to a group: the last step is done.
    let taken = false;
    if (!localStorage.getItem(HIDDEN(user))) {
      for (const t of tests.filter((x) => x.available_for.length).slice(0, 5)) {
        const page = await api("GET", `/api/tests/${t.id}/completions/?limit=1`).catch(() => null);
        if (page && (page.count ?? page.length) > 0) { taken = true; break; }
      }
    }
    replace(steps, checklist(user, groups, tests, taken));
    if (!tests.length) {
      replace(list, h("p", {}, "No tests yet."));
      return;
    }
    replace(list, h("ul", { class: "cards" }, tests.map((test) => h("li", { class: "card" },
      h("h2", {}, test.name),
      h("p", { class: "meta" }, plural(test.questions.length, "question"),
        test.time_limit_seconds ? ` · ${Math.round(test.time_limit_seconds / 60)} min` : " · no time limit",
        test.max_attempts ? ` · ${plural(test.max_attempts, "attempt")}` : "",
        ` · for ${test.available_for.length ? test.available_for.map((g) => g.name).join(", ") : "no group yet"}`),
      h("p", { class: "row" },
        h("a", { class: "button", href: `#/tests/${test.id}` }, "Edit", h("span", { class: "visually-hidden" }, ` ${test.name}`)),
        h("a", { class: "button primary", href: `#/tests/${test.id}/watch` }, "Watch live", h("span", { class: "visually-hidden" }, `: ${test.name}`)),
        exportLink(test.id)),
      linkBox(test)))));
  };
  reloadUser().catch(() => {});
  load().catch((err) => replace(list, h("p", { class: "alert", role: "alert" }, errorText(err))));
}

/** A group's join link and code, with buttons to make, copy, replace or turn it off. */
function joinBox(group, alert) {
  const box = h("div", { class: "join-box" }, h("p", {}, "Loading the join code…"));
  const call = async (method) => {
    try {
      const answer = await api(method, `/api/groups/${group.id}/join_code/`);
      return answer?.code ?? null;
    } catch (err) {
      alert.show(errorText(err));
      throw err;
    }
  };
  const named = (text) => [text, h("span", { class: "visually-hidden" }, ` for ${group.name}`)];
  const show = (code, focus) => {
    if (!code) {
      replace(box, h("h3", {}, "Join link and code"),
        h("p", { class: "note" }, "Students who open the group's join link, or type its code on their page, register or sign in and land in this group."),
        h("button", { type: "button", onclick: async () => { show(await call("POST"), true); announce(`${group.name} has a join link.`); } }, named("Make a join link")));
    } else {
      const id = `join-link-${group.id}`;
      const input = h("input", { id, type: "text", readonly: true, class: "link-input", value: `${location.origin}/app/#/join/${code}` });
      replace(box, h("h3", {}, "Join link and code"),
        h("p", {}, "Code: ", h("strong", { class: "join-code" }, code)),
        h("label", { for: id }, `Join link for ${group.name}`),
        h("div", { class: "row" }, input, copyButton(input, "Copy join link", "Join link"),
          h("button", {
            type: "button",
            onclick: async () => {
              show(await call("POST"), true);
              announce("A new code was made; the old link and code no longer work.");
            },
          }, named("New code")),
          h("button", {
            type: "button",
            class: "danger",
            onclick: async () => {
              await call("DELETE");
              show(null, true);
              announce("The join link and code are turned off.");
            },
          }, named("Turn off"))));
    }
    if (focus) box.querySelector("button")?.focus();
  };
  call("GET").then((code) => show(code, false)).catch(() => replace(box));
  return box;
}

export function groupsView(main) {
  const me = currentUser();
  const alert = alertBox();
  const name = field("Group name", { name: "name", required: true });
  const description = field("Description", { name: "description" });
  const create = h("form", { class: "card", novalidate: true }, h("h2", {}, "New group"), name.el, description.el, h("button", { type: "submit" }, "Create group"));
  const groupsEl = h("div", {}, h("p", {}, "Loading…"));
  const pending = pendingTeachers(me, alert, () => reload());
  main.append(heading("Groups"), alert.el, pending.el, create, groupsEl);

  let users = [];
  const reload = async () => {
    const [groups, all] = await Promise.all([api("GET", "/api/groups/"), api("GET", "/api/users/")]);
    users = all;
    pending.show(users);
    replace(groupsEl, groups.length ? groups.map(renderGroup) : h("p", {}, "No groups yet."));
  };

  const renderGroup = (group) => {
    const memberIds = new Set(group.members.map((m) => m.id));
    const candidates = users.filter((u) => !memberIds.has(u.id));
    const selectId = `add-${group.id}`;
    const select = h("select", { id: selectId }, h("option", { value: "" }, "Choose a person…"),
      candidates.map((u) => h("option", { value: u.id }, `${personName(u)} (${u.email})${u.is_teacher ? ", teacher" : ""}`)));
    const add = h("form", { class: "inline-form", novalidate: true },
      h("label", { for: selectId }, `Add to ${group.name}`), select, h("button", { type: "submit" }, "Add"));
    add.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!select.value) return;
      try {
        await api("POST", `/api/groups/${group.id}/add_user/`, { user: Number(select.value) });
        announce("Added.");
        await reload();
      } catch (err) {
        alert.show(errorText(err));
      }
    });
    return h("section", { class: "card group", "aria-label": group.name },
      h("h2", {}, group.name), group.description ? h("p", {}, group.description) : null,
      group.members.length
        ? h("ul", { class: "members" }, group.members.map((m) => h("li", {}, h("span", {}, personName(m), " ", h("span", { class: "meta" }, m.email)),
          h("button", {
            type: "button",
            class: "link",
            "aria-label": `Remove ${personName(m)} from ${group.name}`,
            onclick: async () => {
              try {
                await api("POST", `/api/groups/${group.id}/remove_user/`, { user: m.id });
                await reload();
              } catch (err) {
                alert.show(errorText(err));
              }
            },
          }, "Remove"))))
        : h("p", {}, "No members yet."),
      joinBox(group, alert),
      add,
      h("button", {
        type: "button",
        class: "danger",
        onclick: async () => {
          if (!window.confirm(`Delete the group ${group.name}?`)) return;
          await api("DELETE", `/api/groups/${group.id}/`).catch((err) => alert.show(errorText(err)));
          await reload();
        },
      }, "Delete group"));
  };

  create.addEventListener("submit", async (event) => {
    event.preventDefault();
    alert.clear();
    if (!name.control.value.trim()) {
      alert.show("Name the group.");
      name.control.focus();
      return;
    }
    try {
      await api("POST", "/api/groups/", { name: name.control.value.trim(), description: description.control.value.trim(), members: [] });
      name.control.value = "";
      description.control.value = "";
      announce("Group created.");
      await reload();
    } catch (err) {
      alert.show(errorText(err));
    }
  });
  reloadUser().catch(() => {});
  reload().catch((err) => alert.show(errorText(err)));
}
