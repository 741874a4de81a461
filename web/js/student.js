// Students: their tests and results, and taking a test live over the WebSocket (every
// answer saved as it is given, resumed after a reload with the server's clock).

import { api, currentUser } from "./api.js";
import { alertBox, announce, clock, codeEditor, errorText, focusHeading, h, heading, num, plural, replace, uid } from "./dom.js";
import { LiveSocket } from "./live.js";
import { go } from "./router.js";

const RECENT = "testit.recent";

function recentTests() {
  try {
    return JSON.parse(localStorage.getItem(RECENT)) || [];
  } catch {
    return [];
  }
}

function remember(uuid, name) {
  const list = recentTests().filter((t) => t.uuid !== uuid);
  list.unshift({ uuid, name });
  localStorage.setItem(RECENT, JSON.stringify(list.slice(0, 20)));
}

/** The public uuid in a pasted link (`…/app/#/take/<uuid>`) or the uuid itself. */
function uuidOf(text) {
  const match = /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/i.exec(text);
  return match ? match[1] : null;
}

export function studentHome(main) {
  const user = currentUser();
  const alert = alertBox();
  const input = h("input", { id: "open-link", type: "text", inputmode: "url", autocomplete: "off", placeholder: "https://…/app/#/take/…" });
  const open = h("form", { class: "card inline-form", novalidate: true },
    h("label", { for: "open-link" }, "Open a test by its link"), input, h("button", { type: "submit" }, "Open"));
  open.addEventListener("submit", (event) => {
    event.preventDefault();
    const uuid = uuidOf(input.value);
    if (uuid) go(`/take/${uuid}`);
    else alert.show("That is not a test link.");
  });
  const opened = h("section", { "aria-labelledby": "open-h" }, h("h2", { id: "open-h" }, "Tests open to you"), h("p", {}, "Loading…"));
  const results = h("section", { "aria-labelledby": "results-h" }, h("h2", { id: "results-h" }, "Your results"), h("p", {}, "Loading…"));
  const code = h("input", { id: "join-code", type: "text", autocomplete: "off", autocapitalize: "characters", spellcheck: "false", "aria-describedby": "join-code-hint" });
  const join = h("form", { class: "card inline-form", novalidate: true },
    h("label", { for: "join-code" }, "Join a group with a code"),
    h("p", { class: "hint", id: "join-code-hint" }, "Your teacher gives you a join link or a code like ABCDE-FGHJK."),
    code, h("button", { type: "submit" }, "Join"));
  join.addEventListener("submit", (event) => {
    event.preventDefault();
    const typed = code.value.trim().replace(/^.*#\/join\//, "");
    if (/^[A-Za-z0-9-]{1,40}$/.test(typed)) go(`/join/${typed}`);
    else alert.show("Enter the code your teacher gave you, like ABCDE-FGHJK.");
  });
  const pending = user?.is_teacher_pending;
  const joined = sessionStorage.getItem("testit.joined");
  sessionStorage.removeItem("testit.joined");
  const where = h("p", { class: "org-name" }, user?.organization ? ["Organization: ", h("strong", {}, user.organization.name)] : null);
  if (user?.organization && !pending) {
    api("GET", "/api/groups/").then((groups) => {
      if (groups.length) where.append(` · ${groups.length === 1 ? "Group" : "Groups"}: `, groups.map((g) => g.name).join(", "));
    }).catch(() => {});
  }
  // replace(), not append(): the DOM's append would print a skipped (null) child as "null".
  replace(main, heading("My tests"),
    joined ? h("p", { class: "success", role: "status" }, joined) : null,
    where,
    user && !user.organization && !pending ? h("p", { class: "note" }, "You have not joined an organization yet: open the join link your teacher gave you, or type its code below.") : null,
    pending ? h("div", { class: "card note pending-note" },
      h("p", {}, `You asked to teach at ${user.organization?.name || "your organization"}. Its owner confirms teachers in TestIT: on their Tests page (or Groups page) they find you under "Teachers waiting for confirmation" and press "Confirm as teacher".`),
      h("p", {}, "Ask them to, then sign out and in again: your teacher pages appear.")) : null,
    alert.el, opened, open, pending ? null : join, results);

  // The tests of the student's groups, from the server: what they may take, on any device.
  const openTests = api("GET", "/api/users/me/tests/");
  openTests.then((tests) => {
    replace(opened, h("h2", { id: "open-h" }, "Tests open to you"), tests.length
      ? h("ul", { class: "plain open-tests" }, tests.map(openTestItem))
      : h("p", {}, "No test is open to you yet: your teacher makes tests available to your groups."));
  }).catch((err) => replace(opened, h("h2", { id: "open-h" }, "Tests open to you"), h("p", {}, errorText(err))));

  Promise.all([api("GET", "/api/users/me/completions/"), openTests.catch(() => [])]).then(([completions, tests]) => {
    // Names of tests no longer open to the student come from those they opened here.
    const names = new Map([...recentTests().map((t) => [t.uuid, t.name]), ...tests.map((t) => [t.public_uuid, t.name])]);
    replace(results, h("h2", { id: "results-h" }, "Your results"), completions.length
      ? h("ul", { class: "plain" }, completions.slice().reverse().map((c) => h("li", {},
        h("a", { href: `#/result/${c.id}` }, `${names.get(c.test) || "Test"} — ${new Date(c.submitted_at).toLocaleString()}`),
        " ", c.status === "grading" ? h("span", { class: "badge grading" }, "grading") : h("span", { class: "badge graded" }, `${num(c.score_exact ?? c.score)} / ${num(c.max_score)}`))))
      : h("p", {}, "No results yet."));
  }).catch((err) => replace(results, h("h2", { id: "results-h" }, "Your results"), h("p", {}, errorText(err))));
}

/** One open test: its link, and what the student should know before opening it. */
function openTestItem(test) {
  const facts = [`${test.questions} question${test.questions === 1 ? "" : "s"}`];
  const limit = test.time_limit_seconds;
  if (limit) facts.push(`time limit ${limit % 60 ? clock(limit) : `${limit / 60} min`}`);
  const left = test.max_attempts === null ? null : Math.max(0, test.max_attempts - test.attempts_used);
  if (left === null) facts.push(test.attempts_used ? `taken ${test.attempts_used}×` : "not taken yet");
  else facts.push(`${test.attempts_used} of ${test.max_attempts} attempts used`);
  // The student's window (their group's, or the test's), in their own time zone.
  const now = Date.now();
  const opens = test.opens_at ? new Date(test.opens_at) : null;
  const closes = test.closes_at ? new Date(test.closes_at) : null;
  if (opens && opens > now) facts.push(`opens ${opens.toLocaleString()}`);
  if (closes) facts.push(`${closes > now ? "closes" : "closed"} ${closes.toLocaleString()}`);
  const state = opens && opens > now ? "not open yet" : closes && closes <= now ? "closed" : null;
  return h("li", {},
    h("a", { href: `#/take/${test.public_uuid}` }, test.name),
    " ", h("span", { class: "facts" }, facts.join(" · ")),
    left === 0 ? [" ", h("span", { class: "badge" }, "no attempts left")] : null,
    state ? [" ", h("span", { class: "badge" }, state)] : null);
}

/** The answer body a question's inputs hold. */
function bodyOf(question, root) {
  switch (question.type) {
    case "text":
      return { picked_variant: { text: root.querySelector("input").value } };
    case "radio": {
      const picked = root.querySelector("input:checked");
      return { picked_variant: picked ? { id: Number(picked.value) } : { text: "" } };
    }
    case "check":
      return { picked_variants: [...root.querySelectorAll("input:checked")].map((i) => ({ id: Number(i.value) })) };
    default:
      return { code: root.querySelector("textarea").value };
  }
}

/** Puts a saved answer body back into a question's inputs. */
function fill(question, root, body) {
  if (!body) return;
  switch (question.type) {
    case "text":
      root.querySelector("input").value = body.picked_variant?.text ?? "";
      break;
    case "radio":
      for (const input of root.querySelectorAll("input")) input.checked = Number(input.value) === body.picked_variant?.id;
      break;
    case "check": {
      const ids = new Set((body.picked_variants || []).map((v) => v.id));
      for (const input of root.querySelectorAll("input")) input.checked = ids.has(Number(input.value));
      break;
    }
    default:
      root.querySelector("textarea").value = body.code ?? "";
  }
}

function questionInputs(question, onEdit) {
  const name = `q-${question.id}`;
  const choice = (type, variant) => {
    const id = uid("v");
    return h("div", { class: "choice" },
      h("input", { type, name, id, value: variant.id, onchange: () => onEdit(false) }),
      h("label", { for: id }, variant.text));
  };
  const label = `Answer to question ${question.number_in_test}`;
  switch (question.type) {
    case "text":
      return h("input", { type: "text", "aria-label": label, autocomplete: "off", oninput: () => onEdit(true), onchange: () => onEdit(false) });
    case "radio":
      return question.body.variants.map((v) => choice("radio", v));
    case "check":
      return question.body.variants.map((v) => choice("checkbox", v));
    default: {
      const language = { python: "Python", javascript: "JavaScript", c: "C", cpp: "C++" }[question.body.language || "python"] || "Python";
      const code = h("textarea", { class: "code", rows: 10, spellcheck: "false", autocapitalize: "off", "aria-label": `${language} code for question ${question.number_in_test}`, oninput: () => onEdit(true), onchange: () => onEdit(false) });
      const examples = (question.body.test_cases || []).filter((c) => !c.hidden);
      return [h("p", { class: "hint" }, `Write ${language}.`), code, codeEditor(code),
        examples.length ? h("details", {}, h("summary", {}, "Example input and output"),
          examples.map((c) => h("div", {}, h("pre", { class: "code" }, c.stdin || "(no input)"), h("pre", { class: "code" }, c.expected_output)))) : null];
    }
  }
}

export function takeView(main, uuid) {
  const alert = alertBox();
  const title = heading("Test");
  const connection = h("p", { class: "connection", "data-state": "connecting" }, "Connecting…");
  const timer = h("p", { class: "timer", hidden: true, role: "timer", "aria-live": "off" });
  const body = h("div", {}, h("p", {}, "Loading…"));
  main.append(title, h("div", { class: "take-bar" }, connection, timer), alert.el, body);

  const state = {
    started: false,
    attempt: null,
    test: null,
    questions: new Map(), // id → {question, root, status, pending}
    replies: [], // what each reply in order answers: {kind, question}
    unsent: new Map(), // question id → body, kept while offline
    deadline: null, // performance.now() ms at the server's deadline
    done: false,
    // The student asked to start, or this tab has an attempt going (a reload resumes it).
    wanted: sessionStorage.getItem(`testit.attempt.${uuid}`) !== null,
  };
  let debounce = new Map();
  let tick = null;

  // Shown beside each question; said to screen readers only when a save lands ("Saved") or
  // fails, never on every keystroke.
  const setStatus = (entry, text, kind, say = false) => {
    entry.status.textContent = text;
    entry.status.dataset.state = kind;
    if (say) announce(text);
  };

  const send = (message, reply) => {
    if (!socket.send(message)) return false;
    state.replies.push(reply);
    return true;
  };

  const save = (id) => {
    const entry = state.questions.get(id);
    if (!entry || state.done) return;
    clearTimeout(debounce.get(id));
    debounce.delete(id);
    const answer = bodyOf(entry.question, entry.root);
    if (send({ type: "save", question: id, body: answer }, { kind: "save", question: id })) {
      entry.pending += 1;
      state.unsent.delete(id);
      setStatus(entry, "Saving…", "saving");
    } else {
      state.unsent.set(id, answer);
      setStatus(entry, "Not saved yet: offline", "offline");
    }
  };

  const edited = (id, typing) => {
    if (state.done) return;
    const entry = state.questions.get(id);
    setStatus(entry, "Editing…", "saving");
    clearTimeout(debounce.get(id));
    if (typing) debounce.set(id, setTimeout(() => save(id), 500));
    else save(id);
  };

  const flushAll = () => {
    for (const id of [...debounce.keys()]) save(id);
  };

  const renderTest = (test) => {
    title.textContent = test.name;
    document.title = `${test.name} · TestIT`;
    remember(uuid, test.name);
    const form = h("form", { class: "take", novalidate: true });
    const questions = test.questions.slice().sort((a, b) => a.number_in_test - b.number_in_test);
    for (const question of questions) {
      const status = h("span", { class: "save-state", "data-state": "idle" });
      const legend = h("legend", {}, `${question.number_in_test}. ${question.text}`, " ", h("span", { class: "points" }, `(${question.points} ${question.points === 1 ? "point" : "points"})`));
      const root = h("fieldset", { class: `question q-${question.type}`, dataset: { question: question.id } }, legend);
      root.append(...[questionInputs(question, (typing) => edited(question.id, typing))].flat(), status);
      state.questions.set(question.id, { question, root, status, pending: 0 });
      form.append(root);
    }
    const confirm = h("div", { class: "confirm", hidden: true },
      h("p", {}, "Submit your answers? You cannot change them afterwards."),
      h("button", { type: "button", class: "primary", onclick: submit }, "Yes, submit"),
      h("button", { type: "button", onclick: () => { confirm.hidden = true; ask.focus(); } }, "Keep working"));
    const ask = h("button", { type: "button", class: "primary", onclick: () => { confirm.hidden = false; confirm.querySelector("button").focus(); } }, "Submit");
    form.append(h("div", { class: "actions" }, ask), confirm);
    form.addEventListener("submit", (event) => event.preventDefault());
    replace(body, form);
    // The view changed (the Start button is gone): its heading takes focus.
    if (!form.contains(document.activeElement)) focusHeading(main);
  };

  const submit = () => {
    flushAll();
    if (!send({ type: "submit" }, { kind: "submit" })) {
      alert.show("You are offline: the test will be submitted once you are back online.");
      return;
    }
    announce("Submitting…");
  };

  const showClock = () => {
    if (state.deadline === null) return;
    const left = (state.deadline - performance.now()) / 1000;
    timer.hidden = false;
    timer.textContent = left > 0 ? `Time left: ${clock(left)}` : "Time is up: submitting…";
    timer.dataset.state = left <= 60 ? "low" : "ok";
  };

  const finished = (completion) => {
    if (state.done) return;
    state.done = true;
    sessionStorage.removeItem(`testit.attempt.${uuid}`);
    go(`/result/${completion.id}`);
  };

  const onAttempt = (message) => {
    const { attempt, test } = message;
    state.attempt = attempt;
    state.test = test;
    sessionStorage.setItem(`testit.attempt.${uuid}`, String(attempt.id));
    if (!state.started) {
      state.started = true;
      renderTest(test);
    }
    // The server's answers, except where this page has edits not yet saved.
    for (const [id, entry] of state.questions) {
      if (state.unsent.has(id) || debounce.has(id) || entry.pending) continue;
      const saved = attempt.answers?.[id];
      fill(entry.question, entry.root, saved);
      setStatus(entry, saved ? "Saved" : "", saved ? "saved" : "idle");
    }
    for (const [id] of [...state.unsent]) save(id);
    state.deadline = attempt.seconds_left === null || attempt.seconds_left === undefined
      ? null : performance.now() + attempt.seconds_left * 1000;
    clearInterval(tick);
    if (state.deadline !== null) {
      showClock();
      tick = setInterval(showClock, 250);
    }
    if (attempt.resumed) announce("Your saved answers are back.");
  };

  const begin = () => {
    state.wanted = true;
    replace(body, h("p", {}, "Starting…"));
    if (!send({ type: "start", test: uuid }, { kind: "start" })) {
      replace(body, h("p", {}, "Waiting for the connection…"));
    }
  };

  if (!state.wanted) {
    // The summary from the list of open tests, not the test itself: the server starts a
    // timed test's clock when it first shows the student the test, so only "Start" may.
    Promise.all([
      api("GET", "/api/users/me/tests/").then((tests) => {
        const found = tests.find((t) => t.public_uuid === uuid);
        if (!found) throw new Error("This test is not open to you. Check the link with your teacher.");
        return found;
      }),
      api("GET", `/api/tests/p/${uuid}/completions/`).catch(() => []),
    ]).then(([test, done]) => {
      if (state.wanted) return;
      title.textContent = test.name;
      document.title = `${test.name} · TestIT`;
      remember(uuid, test.name);
      const n = test.questions;
      const now = Date.now();
      const opens = test.opens_at ? new Date(test.opens_at) : null;
      const closes = test.closes_at ? new Date(test.closes_at) : null;
      const shut = opens && opens > now ? `This test opens ${opens.toLocaleString()}.`
        : closes && closes <= now ? `This test closed ${closes.toLocaleString()}.` : null;
      const left = test.max_attempts === null ? null : Math.max(0, test.max_attempts - done.length);
      const facts = [
        plural(n, "question"),
        test.time_limit_seconds ? `${clock(test.time_limit_seconds)} to answer: the clock starts when you start, and the test is submitted when it runs out` : "no time limit",
        left === null ? null : `${left} of ${plural(test.max_attempts, "attempt")} left`,
        closes && closes > now ? `closes ${closes.toLocaleString()}: an attempt still open then is submitted` : null,
      ].filter(Boolean);
      replace(body, h("div", { class: "card intro" },
        h("ul", {}, facts.map((f) => h("li", {}, f))),
        done.length ? h("p", {}, `You have submitted this test ${done.length === 1 ? "once" : plural(done.length, "time")}: `, h("a", { href: `#/result/${done[done.length - 1].id}` }, "see your last result"), ".") : null,
        h("p", {}, "Every answer is saved as you give it, so you can reload or come back on another device."),
        shut ? h("p", { class: "alert" }, shut)
          : left === 0 ? h("p", { class: "alert" }, "You have no attempts left.")
          : h("button", { type: "button", class: "primary", onclick: begin }, "Start the test")));
    }).catch((err) => {
      replace(body, h("p", { class: "alert", role: "alert" }, errorText(err)), h("p", {}, h("a", { href: "#/" }, "Back to my tests")));
    });
  }

  const socket = new LiveSocket({
    state(s) {
      connection.dataset.state = s;
      connection.textContent = { connecting: "Connecting…", online: "Online: answers are saved as you go", offline: "Offline: reconnecting…" }[s];
      if (s !== "online") {
        state.replies = [];
        for (const entry of state.questions.values()) {
          if (entry.pending) {
            entry.pending = 0;
            state.unsent.set(entry.question.id, bodyOf(entry.question, entry.root));
            setStatus(entry, "Not saved yet: offline", "offline");
          }
        }
      }
    },
    open() {
      if (state.wanted) send({ type: "start", test: uuid }, { kind: "start" });
    },
    signedOut() {
      go("/signin");
    },
    message(message) {
      const replyTypes = ["attempt", "saved", "submitted", "error"];
      const reply = replyTypes.includes(message.type) ? state.replies.shift() : null;
      switch (message.type) {
        case "attempt":
          alert.clear();
          onAttempt(message);
          break;
        case "saved": {
          const entry = state.questions.get(message.question);
          if (entry) {
            entry.pending = Math.max(0, entry.pending - 1);
            if (!entry.pending && !debounce.has(message.question)) setStatus(entry, "Saved", "saved", true);
          }
          break;
        }
        case "submitted":
          finished(message.completion);
          break;
        case "attempt_submitted":
        case "attempt_timed_out":
          if (message.attempt === state.attempt?.id) finished(message.completion);
          break;
        case "error":
          if (reply?.kind === "save") {
            const entry = state.questions.get(reply.question);
            if (entry) {
              entry.pending = Math.max(0, entry.pending - 1);
              setStatus(entry, `Not saved: ${message.detail}`, "error", true);
            }
          } else if (reply?.kind === "start" && !state.started) {
            sessionStorage.removeItem(`testit.attempt.${uuid}`);
            replace(body, h("p", { class: "alert", role: "alert" }, message.detail), h("p", {}, h("a", { href: "#/" }, "Back to my tests")));
            socket.close();
          } else {
            alert.show(message.detail);
          }
          break;
        default:
      }
    },
  });

  return () => {
    clearInterval(tick);
    flushAll();
    socket.close();
  };
}

function answerText(question, body) {
  if (!body) return "(no answer)";
  if (body.code !== undefined) return body.code || "(no answer)";
  if (body.picked_variants) return body.picked_variants.map((v) => v.text).join(", ") || "(no answer)";
  return body.picked_variant?.text || "(no answer)";
}

export function resultView(main, id) {
  const title = heading("Result");
  const body = h("div", {}, h("p", {}, "Loading…"));
  main.append(title, body);
  let test = null;
  let socket = null;

  const show = (completion) => {
    const grading = completion.status === "grading";
    const questions = new Map((test?.questions || []).map((q) => [q.id, q]));
    replace(body,
      h("p", { class: "score", "data-status": completion.status },
        grading ? "Grading your code answers…" : `Score: ${num(completion.score_exact ?? completion.score)} / ${num(completion.max_score)}`),
      grading ? h("p", { class: "note" }, `Answers graded at once so far: ${num(completion.score_exact ?? completion.score)} of ${num(completion.max_score)} points.`) : null,
      h("p", {}, `Submitted ${new Date(completion.submitted_at).toLocaleString()}`),
      h("ol", { class: "answers" }, completion.answers.map((answer) => {
        const q = questions.get(answer.question);
        const code = answer.body?.code !== undefined;
        return h("li", {},
          h("p", { class: "q" }, q ? q.text : `Question ${answer.question}`),
          code ? h("pre", { class: "code" }, answerText(q, answer.body)) : h("p", {}, answerText(q, answer.body)));
      })),
      h("p", {}, h("a", { href: "#/" }, "Back to my tests")));
    if (grading) announce("Your code answers are being graded.");
    else announce(`Score: ${num(completion.score_exact ?? completion.score)} of ${num(completion.max_score)}`);
  };

  const load = async () => {
    const completion = await api("GET", `/api/completions/${id}/`);
    if (!test) {
      // The test itself (its question texts) only when that cannot start a timed test's
      // clock: untimed, or no attempt left. Else its name from the list.
      const listed = await api("GET", "/api/users/me/tests/").then((tests) => tests.find((t) => t.public_uuid === completion.test)).catch(() => null);
      const harmless = listed && (!listed.time_limit_seconds || (listed.max_attempts !== null && listed.attempts_used >= listed.max_attempts));
      test = harmless ? await api("GET", `/api/tests/p/${completion.test}/`).catch(() => null) : null;
      const name = test?.name || listed?.name;
      if (name) title.textContent = `Result: ${name}`;
    }
    show(completion);
    if (completion.status === "grading" && !socket) {
      socket = new LiveSocket({
        open: () => load().catch(() => {}),
        message(message) {
          if (message.type === "completion_graded" && message.completion?.id === Number(id)) show(message.completion);
        },
      });
    }
  };
  load().catch((err) => replace(body, h("p", { class: "alert", role: "alert" }, errorText(err))));
  return () => socket?.close();
}
