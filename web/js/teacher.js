// Teachers: their tests (links, live view, export) and their organization's groups.

import { api, currentUser, freshAccess, reloadUser } from "./api.js";
import { alertBox, announce, errorText, field, h, heading, personName, replace } from "./dom.js";

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
  const copy = h("button", {
    type: "button",
    onclick: async () => {
      try {
        await navigator.clipboard.writeText(input.value);
      } catch {
        input.select();
        document.execCommand?.("copy");
      }
      announce("Link copied.");
      copy.textContent = "Copied";
      setTimeout(() => { copy.textContent = "Copy link"; }, 2000);
    },
  }, "Copy link");
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

export function testsView(main) {
  const user = currentUser();
  const list = h("div", {}, h("p", {}, "Loading…"));
  // replace(), not append(): the DOM's append would print a skipped (null) child as "null".
  replace(main, heading("Tests"),
    !user.organization ? h("p", { class: "note" }, "Create or join an organization first.") : null,
    h("p", {}, h("a", { class: "button primary", href: "#/tests/new" }, "New test")), list);
  api("GET", "/api/tests/").then((tests) => {
    if (!tests.length) {
      replace(list, h("p", {}, "No tests yet."));
      return;
    }
    replace(list, h("ul", { class: "cards" }, tests.map((test) => h("li", { class: "card" },
      h("h2", {}, test.name),
      h("p", { class: "meta" }, `${test.questions.length} questions`,
        test.time_limit_seconds ? ` · ${Math.round(test.time_limit_seconds / 60)} min` : " · no time limit",
        test.max_attempts ? ` · ${test.max_attempts} attempt(s)` : "",
        ` · for ${test.available_for.length ? test.available_for.map((g) => g.name).join(", ") : "no group yet"}`),
      h("p", { class: "row" },
        h("a", { class: "button", href: `#/tests/${test.id}` }, "Edit", h("span", { class: "visually-hidden" }, ` ${test.name}`)),
        h("a", { class: "button primary", href: `#/tests/${test.id}/watch` }, "Watch live", h("span", { class: "visually-hidden" }, `: ${test.name}`)),
        exportLink(test.id)),
      linkBox(test)))));
  }).catch((err) => replace(list, h("p", { class: "alert", role: "alert" }, errorText(err))));
}

export function groupsView(main) {
  const me = currentUser();
  const alert = alertBox();
  const name = field("Group name", { name: "name", required: true });
  const description = field("Description", { name: "description" });
  const create = h("form", { class: "card", novalidate: true }, h("h2", {}, "New group"), name.el, description.el, h("button", { type: "submit" }, "Create group"));
  const groupsEl = h("div", {}, h("p", {}, "Loading…"));
  const pending = h("section", { hidden: true, "aria-labelledby": "pending-h" });
  main.append(heading("Groups"), alert.el, pending, create, groupsEl);

  let users = [];
  const reload = async () => {
    const [groups, all] = await Promise.all([api("GET", "/api/groups/"), api("GET", "/api/users/")]);
    users = all;
    renderPending();
    replace(groupsEl, groups.length ? groups.map(renderGroup) : h("p", {}, "No groups yet."));
  };

  const renderPending = () => {
    const waiting = users.filter((u) => u.is_teacher_pending);
    const owner = me.organization && me.organization.owner === me.id;
    pending.hidden = !owner || !waiting.length;
    if (pending.hidden) return;
    replace(pending, h("h2", { id: "pending-h" }, "Teachers waiting for confirmation"), h("ul", { class: "plain" }, waiting.map((u) => h("li", {},
      `${personName(u)} (${u.email}) `,
      h("button", {
        type: "button",
        onclick: async () => {
          try {
            await api("POST", `/api/organizations/${me.organization.id}/confirm_teacher/`, { user: u.id });
            announce(`${personName(u)} is now a teacher.`);
            await reload();
          } catch (err) {
            alert.show(errorText(err));
          }
        },
      }, "Confirm as teacher")))));
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
