// Writing and editing a test: its questions (text, radio, check, code), time limit, attempts
// and groups. The server's 400 (e.g. testing code that cannot grade) is shown next to the
// field it names (`questions[2].body.testing_code`).

import { api } from "./api.js";
import { alertBox, announce, codeEditor, errorText, h, heading, inPageWords, replace, uid } from "./dom.js";
import { go, guardLeaving } from "./router.js";
import { exportLink, linkBox } from "./teacher.js";

const KINDS = {
  text: "Text answer",
  radio: "One choice",
  check: "Several choices",
  code: "Code",
};

/** The languages a code question may be in (`GET /api/languages/` says which can grade now). */
export const LANGUAGES = { python: "Python", javascript: "JavaScript", c: "C", cpp: "C++" };

/** The input/output test cases of code question `i`: stdin, expected output, points, hidden. */
function testCaseRows(q, i, path, errors, rerender) {
  q.body.test_cases = q.body.test_cases || [];
  const rows = q.body.test_cases.map((c, j) => {
    const name = `question ${i + 1}, test case ${j + 1}`;
    const stdin = h("textarea", { class: "code", rows: 2, spellcheck: "false", value: c.stdin || "", "aria-label": `Input of ${name}`, oninput: (e) => { c.stdin = e.target.value; } });
    const expected = h("textarea", { class: "code", rows: 2, spellcheck: "false", value: c.expected_output || "", "aria-label": `Expected output of ${name}`, oninput: (e) => { c.expected_output = e.target.value; } });
    const points = h("input", { type: "number", min: 0, max: 32767, value: c.points ?? 1, "aria-label": `Points of ${name}`, oninput: (e) => { c.points = e.target.value; } });
    const hid = uid("h");
    const error = h("p", { class: "field-error", id: uid("e"), hidden: true, tabindex: "-1" });
    errors.set(`${path}.body.test_cases[${j}].expected_output`, { error, control: expected, label: `Expected output of ${name}` });
    return h("li", { class: "card" },
      h("div", { class: "row" }, h("label", {}, "Input", stdin), h("label", {}, "Expected output", expected)),
      error,
      h("div", { class: "row" },
        h("label", {}, "Points ", points),
        h("span", { class: "choice" },
          h("input", { type: "checkbox", id: hid, checked: !!c.hidden, onchange: (e) => { c.hidden = e.target.checked; } }),
          h("label", { for: hid }, "hidden from students")),
        h("button", { type: "button", class: "link", "aria-label": `Remove ${name}`, onclick: () => { q.body.test_cases.splice(j, 1); rerender(); } }, "Remove")));
  });
  const error = h("p", { class: "field-error", id: uid("e"), hidden: true, tabindex: "-1" });
  errors.set(`${path}.body.test_cases`, { error, control: null, label: `Question ${i + 1}: test cases` });
  return h("div", { class: "field" },
    h("p", { class: "label" }, "Test cases (the answer's output must match, trailing spaces aside)"),
    h("ul", { class: "variants" }, rows), error,
    h("button", { type: "button", onclick: () => { q.body.test_cases.push({ stdin: "", expected_output: "", points: 1, hidden: false }); rerender(); } }, "Add a test case"));
}

function blank(type) {
  const body = { variants: [], strict_score: true };
  if (type === "text") body.variants = [{ text: "", is_correct: true }];
  if (type === "radio" || type === "check") body.variants = [{ text: "", is_correct: true }, { text: "", is_correct: false }];
  if (type === "code") Object.assign(body, { testing_code: "", language: "python", test_cases: [] });
  return { type, text: "", points: 1, body };
}

/** A labelled control with an error slot named by the server's field path (`name`: what
 * its errors call the field, when the label is longer). */
function labelled(label, control, path, errors, { name, after } = {}) {
  const id = control.id || uid();
  control.id = id;
  const error = h("p", { class: "field-error", id: `${id}-error`, hidden: true, tabindex: "-1" });
  errors.set(path, { error, control, label: name || label });
  return h("div", { class: "field" }, h("label", { for: id }, label), control, after || null, error);
}

export function editorView(main, id) {
  const alert = alertBox();
  const title = heading(id ? "Edit test" : "New test");
  const body = h("div", {}, h("p", {}, "Loading…"));
  main.append(title, alert.el, body);

  let test = null;
  let questions = [];
  let groups = [];
  let errors = new Map();
  // Changes not saved yet: leaving asks first.
  let dirty = false;
  const changed = () => { dirty = true; };
  guardLeaving(() => (dirty ? "Leave this test without saving? Your changes are not saved yet." : null));

  const render = () => {
    errors = new Map();
    const name = h("input", { type: "text", name: "name", required: true, value: test?.name || "" });
    const minutes = h("input", { type: "number", name: "time_limit", min: "1", step: "1", inputmode: "numeric", value: test?.time_limit_seconds ? String(Math.round(test.time_limit_seconds / 60)) : "" });
    const attempts = h("input", { type: "number", name: "max_attempts", min: "1", step: "1", inputmode: "numeric", value: test?.max_attempts ?? "" });
    const opensAt = h("input", { type: "datetime-local", name: "opens_at", value: localInput(test?.opens_at) });
    const closesAt = h("input", { type: "datetime-local", name: "closes_at", value: localInput(test?.closes_at) });
    const available = new Set((test?.available_for || []).map((g) => g.id));
    const groupBoxes = groups.map((g) => {
      const gid = uid("g");
      return h("div", { class: "choice" }, h("input", { type: "checkbox", id: gid, value: g.id, checked: available.has(g.id), name: "group" }), h("label", { for: gid }, g.name));
    });
    const list = h("ol", { class: "questions" });
    const renderQuestions = (edited = true) => {
      if (edited) changed();
      for (const key of [...errors.keys()]) if (key.startsWith("questions")) errors.delete(key);
      replace(list, questions.map((q, i) => questionEditor(q, i)));
    };

    const questionEditor = (q, i) => {
      const path = `questions[${i}]`;
      const number = `Question ${i + 1}`;
      const text = h("textarea", { rows: 2, value: q.text, oninput: (e) => { q.text = e.target.value; } });
      const points = h("input", { type: "number", min: "0", max: "32767", step: "1", inputmode: "numeric", value: String(q.points), oninput: (e) => { q.points = e.target.value; } });
      const parts = [
        h("div", { class: "q-head" }, h("h3", {}, `Question ${i + 1}: ${KINDS[q.type]}`),
          h("div", { class: "row" },
            h("button", { type: "button", disabled: i === 0, "aria-label": `Move question ${i + 1} up`, onclick: () => { [questions[i - 1], questions[i]] = [questions[i], questions[i - 1]]; renderQuestions(); } }, "↑"),
            h("button", { type: "button", disabled: i === questions.length - 1, "aria-label": `Move question ${i + 1} down`, onclick: () => { [questions[i + 1], questions[i]] = [questions[i], questions[i + 1]]; renderQuestions(); } }, "↓"),
            h("button", { type: "button", class: "danger", "aria-label": `Remove question ${i + 1}`, onclick: () => { questions.splice(i, 1); renderQuestions(); } }, "Remove"))),
        labelled("Question", text, `${path}.text`, errors, { name: `The text of question ${i + 1}` }),
        labelled("Points", points, `${path}.points`, errors, { name: `Points of question ${i + 1}` }),
      ];
      if (q.type === "code") {
        const language = h("select", { onchange: (e) => { q.body.language = e.target.value; renderQuestions(); } },
          Object.entries(LANGUAGES).map(([value, name]) => h("option", { value, selected: (q.body.language || "python") === value }, name)));
        parts.push(labelled("Language", language, `${path}.body.language`, errors, { name: `The language of question ${i + 1}` }));
        if ((q.body.language || "python") === "python") {
          const code = h("textarea", { class: "code", rows: 8, spellcheck: "false", value: q.body.testing_code || "", oninput: (e) => { q.body.testing_code = e.target.value; } });
          parts.push(labelled("Testing code (asserts, or test_* functions)", code, `${path}.body.testing_code`, errors,
            { name: `The testing code of question ${i + 1}`, after: codeEditor(code) }));
        }
        parts.push(testCaseRows(q, i, path, errors, renderQuestions));
      } else {
        const itemName = q.type === "text" ? "Accepted answer" : "Choice";
        const inputs = [];
        const variantList = h("ul", { class: "variants" }, q.body.variants.map((v, j) => {
          const vt = h("input", { type: "text", value: v.text, "aria-label": `${itemName} ${j + 1}`, oninput: (e) => { v.text = e.target.value; } });
          inputs.push(vt);
          const cid = uid("c");
          const correct = h("input", {
            type: q.type === "radio" ? "radio" : "checkbox",
            name: `correct-${i}`,
            id: cid,
            checked: v.is_correct,
            onchange: (e) => {
              if (q.type === "radio") for (const other of q.body.variants) other.is_correct = false;
              v.is_correct = e.target.checked;
            },
          });
          return h("li", {}, vt,
            q.type === "text" ? null : h("span", { class: "choice" }, correct, h("label", { for: cid }, "correct")),
            h("button", { type: "button", class: "link", "aria-label": `Remove ${q.type === "text" ? "answer" : "choice"} ${j + 1}`, onclick: () => { q.body.variants.splice(j, 1); renderQuestions(); } }, "Remove"));
        }));
        const error = h("p", { class: "field-error", id: uid("e"), hidden: true, tabindex: "-1" });
        const items = q.type === "text" ? "accepted answers" : "choices";
        errors.set(`${path}.body.variants`, { error, control: null, inputs, items, label: `${number}: ${items}`, itemName });
        parts.push(h("div", { class: "field" },
          h("p", { class: "label" }, q.type === "text" ? "Accepted answers (case and spacing do not matter)" : "Choices"),
          variantList, error,
          h("button", { type: "button", onclick: () => { q.body.variants.push({ text: "", is_correct: q.type === "text" }); renderQuestions(); } }, q.type === "text" ? "Add an accepted answer" : "Add a choice")));
      }
      if (q.type === "check" || q.type === "code") {
        const sid = uid("s");
        parts.push(h("div", { class: "choice" },
          h("input", { type: "checkbox", id: sid, checked: q.body.strict_score !== false, onchange: (e) => { q.body.strict_score = e.target.checked; } }),
          h("label", { for: sid }, q.type === "code" ? "Full points only when every check passes" : "Full points only for exactly the right choices")));
      }
      const error = h("p", { class: "field-error", id: uid("e"), hidden: true, tabindex: "-1" });
      errors.set(path, { error, control: null, label: number });
      parts.push(error);
      return h("li", { class: "card question-editor", dataset: { index: i } }, parts);
    };
    renderQuestions(false);

    const adders = h("div", { class: "row add-question" }, h("span", {}, "Add a question:"),
      Object.entries(KINDS).map(([type, label]) => h("button", { type: "button", onclick: () => { questions.push(blank(type)); renderQuestions(); list.lastElementChild?.querySelector("textarea")?.focus(); } }, label)));

    const save = h("button", { type: "submit", class: "primary" }, "Save test");
    const form = h("form", { class: "editor", novalidate: true },
      labelled("Name", name, "name", errors),
      h("div", { class: "row wrap" },
        labelled("Time limit in minutes (empty: none)", minutes, "time_limit_seconds", errors),
        labelled("Attempts per student (empty: any)", attempts, "max_attempts", errors)),
      h("div", { class: "row wrap" },
        labelled("Opens at (your time; empty: now)", opensAt, "opens_at", errors),
        labelled("Closes at (your time; empty: never)", closesAt, "closes_at", errors)),
      h("fieldset", {}, h("legend", {}, "Available for groups"), groupBoxes.length ? groupBoxes : h("p", {}, "No groups yet: ", h("a", { href: "#/groups" }, "create one"), ".")),
      h("h2", {}, "Questions"), list, adders,
      h("div", { class: "actions" }, save));

    form.addEventListener("input", changed);
    form.addEventListener("change", changed);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      alert.clear();
      for (const { error, control, inputs } of errors.values()) {
        error.hidden = true;
        control?.removeAttribute?.("aria-invalid");
        for (const input of inputs || []) input.removeAttribute("aria-invalid");
      }
      const payload = {
        name: name.value.trim(),
        time_limit_seconds: minutes.value ? Math.round(Number(minutes.value) * 60) : null,
        max_attempts: attempts.value ? Number(attempts.value) : null,
        opens_at: opensAt.value ? new Date(opensAt.value).toISOString() : null,
        closes_at: closesAt.value ? new Date(closesAt.value).toISOString() : null,
        available_for: [...form.querySelectorAll('input[name="group"]:checked')].map((c) => Number(c.value)),
        questions: questions.map((q, i) => ({
          ...(q.id ? { id: q.id } : {}),
          text: q.text,
          type: q.type,
          points: Number(q.points),
          number_in_test: i + 1,
          body: q.type === "code"
            ? {
              language: q.body.language || "python",
              ...((q.body.language || "python") === "python" ? { testing_code: q.body.testing_code } : {}),
              test_cases: (q.body.test_cases || []).map((c) => ({ stdin: c.stdin || "", expected_output: c.expected_output || "", points: Number(c.points ?? 1), hidden: !!c.hidden })),
              strict_score: q.body.strict_score !== false,
            }
            : { variants: q.body.variants.map((v) => ({ ...(v.id ? { id: v.id } : {}), text: v.text, is_correct: !!v.is_correct })), strict_score: q.body.strict_score !== false },
        })),
      };
      save.disabled = true;
      try {
        const saved = id
          ? await api("PUT", `/api/tests/${id}/`, payload)
          : await api("POST", "/api/tests/", payload);
        dirty = false;
        announce("Test saved.");
        if (!id) {
          go(`/tests/${saved.id}`);
          return;
        }
        load(saved);
        alert.clear();
        main.querySelector(".saved-note")?.remove();
        title.after(h("p", { class: "saved-note", role: "status" }, "Saved."));
      } catch (err) {
        showErrors(err);
      } finally {
        save.disabled = false;
      }
    });

    replace(body,
      test ? h("div", { class: "card" }, linkBox(test, (next) => { test = next; }),
        h("p", { class: "row" }, h("a", { class: "button primary", href: `#/tests/${test.id}/watch` }, "Watch live"),
          exportLink(test.id),
          h("button", {
            type: "button",
            class: "danger",
            onclick: async () => {
              if (!window.confirm(`Delete the test ${test.name}? Its results stay with the students.`)) return;
              await api("DELETE", `/api/tests/${test.id}/`);
              dirty = false;
              go("/tests");
            },
          }, "Delete test"))) : null,
      form);
  };

  const showErrors = (err) => {
    const fields = err.body && typeof err.body === "object" && !err.body.detail ? err.body : null;
    if (!fields) {
      alert.show(errorText(err));
      return;
    }
    const unplaced = [];
    const shown = [];
    for (const [key, messages] of Object.entries(fields)) {
      const raw = Array.isArray(messages) ? messages.join(" ") : String(messages);
      // A choice's own field (`questions[1].body.variants[0].text`) shows under the choices,
      // named by its number.
      const item = /^(questions\[\d+\]\.body\.variants)\[(\d+)\]/.exec(key);
      const slot = errors.get(key) || (item && errors.get(item[1])) || errors.get(key.replace(/\.body\..*$|\.[^.[\]]+$/, ""));
      if (!slot) {
        unplaced.push(key === "non_field_errors" ? raw : `${key}: ${inPageWords(raw)}`);
        continue;
      }
      const input = item ? slot.inputs?.[Number(item[2])] : null;
      const label = input ? `${slot.label.replace(/:.*$/, "")}: ${slot.itemName.toLowerCase()} ${Number(item[2]) + 1}` : slot.label;
      const text = inPageWords(raw, label, slot.items);
      slot.error.textContent = slot.error.hidden ? text : `${slot.error.textContent}\n${text}`;
      slot.error.hidden = false;
      const control = input || slot.control;
      if (control) {
        control.setAttribute("aria-invalid", "true");
        control.setAttribute("aria-describedby", slot.error.id);
      }
      shown.push({ control, error: slot.error });
    }
    alert.show([shown.length ? "The test was not saved. Please fix the marked fields." : "The test was not saved.", ...unplaced].join("\n"));
    // The first error in the page's order takes focus: its field (whose description is the
    // error) or, for a message about a whole question, the message itself.
    const order = (a, b) => ((a.control || a.error).compareDocumentPosition(b.control || b.error) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1);
    const first = shown.sort(order)[0];
    if (first) (first.control || first.error).focus();
    else alert.el.focus?.();
  };

  const load = (t) => {
    test = t;
    title.textContent = t ? `Edit: ${t.name}` : "New test";
    document.title = `${title.textContent} · TestIT`;
    questions = t ? t.questions.slice().sort((a, b) => a.number_in_test - b.number_in_test).map((q) => ({
      id: q.id,
      type: q.type,
      text: q.text,
      points: q.points,
      body: {
        variants: q.body.variants.map((v) => ({ ...v })), strict_score: q.body.strict_score, testing_code: q.body.testing_code,
        language: q.body.language, test_cases: (q.body.test_cases || []).map((c) => ({ ...c })),
      },
    })) : [];
    render();
  };

  Promise.all([id ? api("GET", `/api/tests/${id}/`) : null, api("GET", "/api/groups/")])
    .then(([t, g]) => { groups = g; load(t); })
    .catch((err) => replace(body, h("p", { class: "alert", role: "alert" }, errorText(err))));
}

/** An RFC 3339 instant as a datetime-local input's value, in the browser's time zone. */
function localInput(instant) {
  if (!instant) return "";
  const d = new Date(instant);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
