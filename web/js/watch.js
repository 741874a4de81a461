// Watching a test live: a row per student (answered/total, time left, status, score), a
// column per question with a summary, and each completion's details. Events change the
// model and mark rows dirty; the DOM is updated once per animation frame. On every
// (re)connection the view asks `watch` again and rebuilds from the fresh snapshot.

import { api, apiWithClock } from "./api.js";
import { announce, clock, errorText, h, heading, num, personName, plural, replace } from "./dom.js";
import { LiveSocket } from "./live.js";
import { go } from "./router.js";
import { exportLink } from "./teacher.js";

const STATUS = {
  not_started: "not started",
  in_progress: "in progress",
  submitted: "submitted",
  grading: "grading",
  graded: "graded",
};

export function watchView(main, id) {
  const testId = Number(id);
  const title = heading("Live results");
  const connection = h("p", { class: "connection", "data-state": "connecting" }, "Connecting…");
  // The summary is shown, not announced: each student's change is announced instead.
  const counts = h("p", { class: "counts" });
  const table = h("table", { class: "live" });
  const wrap = h("div", { class: "scroll", tabindex: "0", role: "region", "aria-label": "Students and their answers" }, table);
  const body = h("div", {}, h("p", {}, "Loading…"));
  main.append(title, h("div", { class: "take-bar" }, connection,
    exportLink(testId)), counts, body);

  let test = null;
  let questions = [];
  let offset = 0; // server clock − local clock, ms
  let expected = []; // members of the test's groups
  const rows = new Map(); // user id → row
  let snapshot = null; // pages being gathered
  const dirty = new Set(); // rows to render again
  const ticking = new Set(); // rows whose time left alone changed
  let frame = 0;
  let tick = null;
  let socket = null;
  const tbody = h("tbody");
  const tfoot = h("tfoot");
  const open = new Set(); // user ids whose details are shown

  // Announcements, one line per student's event ("Sam Student submitted: 7 of 7"), said
  // politely and at most once every few seconds: what piled up meanwhile is said together
  // (a student's latest line only), so a busy class does not drown the screen reader.
  const ANNOUNCE_EVERY = 3000;
  const said = new Map(); // user id → line waiting to be said
  let saying = null;
  let quiet = false; // a snapshot is being applied: nothing new happened
  const say = (r, what) => {
    if (quiet) return;
    said.delete(r.id);
    said.set(r.id, `${personName(r.user || { id: r.id })} ${what}`);
    if (!saying) saying = setTimeout(sayNow, 0);
  };
  function sayNow() {
    if (!said.size) {
      saying = null;
      return;
    }
    const lines = [...said.values()];
    said.clear();
    const shown = lines.slice(0, 3);
    if (lines.length > 3) shown.push(`and ${plural(lines.length - 3, "more change")}`);
    announce(`${shown.join(". ")}.`);
    saying = setTimeout(sayNow, ANNOUNCE_EVERY);
  }

  const row = (user) => {
    const key = typeof user === "object" ? user.id : user;
    let r = rows.get(key);
    if (!r) {
      r = { id: key, user: typeof user === "object" ? user : null, status: "not_started", answered: 0, deadline: null, score: null, max: null, completion: null, completions: new Set(), timedOut: false, tr: null, details: null };
      rows.set(key, r);
    } else if (typeof user === "object" && user) {
      r.user = user;
    }
    return r;
  };

  const mark = (r) => {
    dirty.add(r.id);
    if (!frame) frame = requestAnimationFrame(flush);
  };

  const timeLeft = (r) => {
    if (r.status !== "in_progress") return "";
    if (r.deadline === null) return "no limit";
    const left = (r.deadline - (Date.now() + offset)) / 1000;
    return left > 0 ? clock(left) : "0:00";
  };

  // The completion a row's cells show: none while the student is on a new attempt (the
  // previous one stays under Details).
  const shownCompletion = (r) => (r.status === "in_progress" ? null : r.completion);

  const answerCell = (r, q) => {
    const answer = shownCompletion(r)?.answers?.find((a) => a.question === q.id);
    if (!answer) return h("td", { class: "q" }, r.status === "in_progress" ? "" : "–");
    const correct = answer.body?.is_correct;
    if (correct === null || correct === undefined) return h("td", { class: "q pending" }, "…", h("span", { class: "visually-hidden" }, " grading"));
    return h("td", { class: `q ${correct ? "right" : "wrong"}` },
      correct ? "✓ " : "✗ ", num(answer.points_exact ?? answer.points), h("span", { class: "visually-hidden" }, correct ? " correct" : " wrong"));
  };

  const answerText = (answer) => {
    const b = answer.body || {};
    if (b.code !== undefined) return h("pre", { class: "code" }, b.code || "(no answer)");
    if (b.picked_variants) return h("p", {}, b.picked_variants.map((v) => v.text).join(", ") || "(no answer)");
    return h("p", {}, b.picked_variant?.text || "(no answer)");
  };

  const details = (r) => {
    const c = r.completion;
    const q = new Map(questions.map((x) => [x.id, x]));
    return h("tr", { class: "details" }, h("td", { colspan: String(6 + questions.length) },
      c ? h("div", {},
        h("p", {}, `${r.status === "in_progress" ? "Previous attempt: submitted" : "Submitted"} ${new Date(c.submitted_at).toLocaleString()}${r.timedOut ? " (at the deadline)" : ""} · ${plural(r.completions.size, "completion")} · status ${c.status}`),
        h("ol", { class: "answers" }, (c.answers || []).map((a) => h("li", {},
          h("p", { class: "q" }, q.get(a.question)?.text || `Question ${a.question}`,
            " — ", a.body?.is_correct === null || a.body?.is_correct === undefined ? "grading" : `${num(a.points_exact ?? a.points)} ${(a.points_exact ?? a.points) === 1 ? "point" : "points"}${a.body.is_correct ? ", correct" : ", wrong"}`),
          answerText(a),
          a.body?.runtime_errors ? h("pre", { class: "errors" }, a.body.runtime_errors) : null))))
        : h("p", {}, "No completion yet.")));
  };

  const renderRow = (r) => {
    const name = personName(r.user || { id: r.id });
    const tr = r.tr || h("tr");
    r.tr = tr;
    tr.dataset.user = String(r.id);
    tr.dataset.status = r.status;
    const score = r.score === null || !shownCompletion(r) ? "" : `${num(r.score)} / ${num(r.max)}`;
    const shown = open.has(r.id);
    replace(tr,
      h("th", { scope: "row" }, name, r.user?.email ? h("span", { class: "meta" }, r.user.email) : null),
      h("td", { class: "answered" }, r.status === "not_started" ? "" : `${r.answered}/${questions.length}`),
      h("td", { class: "time" }, timeLeft(r)),
      h("td", { class: "status" }, h("span", { class: `badge ${r.status}` }, STATUS[r.status])),
      h("td", { class: "score" }, score),
      questions.map((q) => answerCell(r, q)),
      h("td", {}, r.completion ? h("button", {
        type: "button",
        class: "link",
        dataset: { focusKey: `details-${r.id}` },
        "aria-expanded": String(shown),
        onclick: () => { if (open.has(r.id)) open.delete(r.id); else open.add(r.id); mark(r); },
      }, "Details", h("span", { class: "visually-hidden" }, ` of ${name}`)) : ""));
    const next = shown ? details(r) : null;
    if (r.details) r.details.remove();
    r.details = next;
    if (next) tr.after(next);
  };

  const renderFoot = () => {
    const cells = questions.map((q) => {
      let right = 0;
      let graded = 0;
      let points = 0;
      for (const r of rows.values()) {
        const a = r.completion?.answers?.find((x) => x.question === q.id);
        if (!a || a.body?.is_correct === null || a.body?.is_correct === undefined) continue;
        graded += 1;
        points += a.points_exact ?? a.points ?? 0;
        if (a.body.is_correct) right += 1;
      }
      return h("td", { class: "q" }, graded ? `${right}/${graded} right` : "–", graded ? h("span", { class: "meta" }, `avg ${num(points / graded)}`) : null);
    });
    replace(tfoot, h("tr", {}, h("th", { scope: "row" }, "Per question"), h("td"), h("td"), h("td"), h("td"), cells, h("td")));
    const by = {};
    for (const r of rows.values()) by[r.status] = (by[r.status] || 0) + 1;
    const summary = Object.entries(STATUS).filter(([k]) => by[k]).map(([k, label]) => `${by[k]} ${label}`).join(" · ") || "No students yet.";
    // Set only when it changes: the region is announced politely.
    if (counts.textContent !== summary) counts.textContent = summary;
  };

  function flush() {
    frame = 0;
    // A row rendered again keeps the keyboard focus on its button.
    const focused = document.activeElement?.dataset?.focusKey;
    for (const key of ticking) {
      const r = rows.get(key);
      const cell = r?.tr?.querySelector("td.time");
      if (cell && !dirty.has(key)) cell.textContent = timeLeft(r);
    }
    ticking.clear();
    for (const key of dirty) {
      const r = rows.get(key);
      if (!r) continue;
      const fresh = !r.tr;
      renderRow(r);
      if (fresh) tbody.append(r.tr);
      if (fresh && r.details) r.tr.after(r.details);
    }
    dirty.clear();
    renderFoot();
    if (focused && document.activeElement?.dataset?.focusKey !== focused) {
      tbody.querySelector(`[data-focus-key="${focused}"]`)?.focus();
    }
  }

  const renderTable = () => {
    replace(table,
      h("caption", {}, `${test.name}: students`),
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, "Student"), h("th", { scope: "col" }, "Answered"), h("th", { scope: "col" }, "Time left"),
        h("th", { scope: "col" }, "Status"), h("th", { scope: "col" }, "Score"),
        questions.map((q) => h("th", { scope: "col", class: "q-col", title: q.text },
          `Q${q.number_in_test}`, h("span", { class: "q-text" }, h("span", { class: "visually-hidden" }, ": "), q.text))),
        h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Details")))),
      tbody, tfoot);
    replace(tbody);
    const sorted = [...rows.values()].sort((a, b) => personName(a.user || { id: a.id }).localeCompare(personName(b.user || { id: b.id })));
    for (const r of sorted) {
      r.tr = null;
      r.details = null;
      dirty.add(r.id);
    }
    flush();
    replace(body, wrap);
  };

  const completed = (r, completion, graded) => {
    r.completions.add(completion.id);
    r.completion = completion;
    r.score = completion.score_exact ?? completion.score;
    r.max = completion.max_score;
    r.answered = (completion.answers || []).filter((a) => {
      const b = a.body || {};
      return (b.code ?? "") !== "" || (b.picked_variants?.length ?? 0) > 0 || (b.picked_variant?.id ?? 0) !== 0 || (b.picked_variant?.text ?? "") !== "";
    }).length;
    r.deadline = null;
    r.status = completion.status === "grading" ? "grading" : graded ? "graded" : "submitted";
  };

  const applySnapshot = ({ attempts, completions }) => {
    quiet = true;
    rows.clear();
    for (const user of expected) row(user);
    for (const c of completions) completed(row(c.user), c, true);
    for (const a of attempts) {
      const r = row(a.user || a.attempt);
      r.status = "in_progress";
      r.answered = a.answered;
      r.deadline = a.deadline ? Date.parse(a.deadline) : null;
    }
    renderTable();
    quiet = false;
  };

  const onMessage = (m) => {
    switch (m.type) {
      case "watching":
        snapshot = { attempts: [], completions: [] };
        break;
      case "snapshot_page":
        if (!snapshot) snapshot = { attempts: [], completions: [] };
        snapshot.attempts.push(...m.attempts);
        snapshot.completions.push(...m.completions);
        if (m.last) {
          applySnapshot(snapshot);
          snapshot = null;
        }
        break;
      case "attempt_started": {
        const r = row(m.user);
        r.status = "in_progress";
        r.answered = 0;
        r.deadline = m.deadline ? Date.parse(m.deadline) : null;
        say(r, r.completions.size ? "started a new attempt" : "started");
        mark(r);
        break;
      }
      case "progress":
        for (const p of m.attempts) {
          const r = row(p.user);
          if (r.status !== "in_progress" && r.status !== "not_started") continue;
          r.status = "in_progress";
          if (r.answered !== p.answered) say(r, `answered ${p.answered} of ${questions.length}`);
          r.answered = p.answered;
          mark(r);
        }
        break;
      case "attempt_submitted":
      case "attempt_timed_out": {
        const r = row(m.user);
        r.timedOut = m.type === "attempt_timed_out";
        // The student's view of the completion: scores, no correctness yet.
        completed(r, m.completion, false);
        say(r, `${r.timedOut ? "ran out of time" : "submitted"}${r.status === "grading" ? ": grading code answers" : `: ${num(r.score)} of ${num(r.max)}`}`);
        mark(r);
        break;
      }
      case "answer_graded": {
        const r = row(m.user);
        const a = r.completion?.id === m.completion ? r.completion.answers?.find((x) => x.question === m.question) : null;
        if (a) {
          a.points = m.points;
          a.points_exact = m.points_exact;
          a.body = { ...a.body, is_correct: m.is_correct, runtime_errors: m.runtime_errors };
        }
        r.status = "grading";
        mark(r);
        break;
      }
      case "completion_graded": {
        const c = m.completion;
        const r = row(c.user);
        // Said when code answers were being graded; a submission graded at once was said.
        const waited = r.status === "grading";
        completed(r, c, true);
        if (waited) say(r, `graded: ${num(r.score)} of ${num(r.max)}`);
        mark(r);
        break;
      }
      case "error":
        replace(body, h("p", { class: "alert", role: "alert" }, m.detail));
        break;
      default:
    }
  };

  Promise.all([apiWithClock("GET", `/api/tests/${testId}/`), api("GET", "/api/groups/")]).then(([t, groups]) => {
    test = t.data;
    offset = t.offset;
    title.textContent = `Live: ${test.name}`;
    document.title = `Live: ${test.name} · TestIT`;
    questions = test.questions.slice().sort((a, b) => a.number_in_test - b.number_in_test);
    const allowed = new Set(test.available_for.map((g) => g.id));
    const members = new Map();
    for (const g of groups) if (allowed.has(g.id)) for (const m of g.members) if (!m.is_teacher) members.set(m.id, m);
    expected = [...members.values()];
    socket = new LiveSocket({
      state(s) {
        connection.dataset.state = s;
        connection.textContent = { connecting: "Connecting…", online: "Live", offline: "Offline: reconnecting…" }[s];
      },
      open() { socket.send({ type: "watch", test: testId }); },
      message: onMessage,
      signedOut() { go("/signin"); },
    });
    tick = setInterval(() => {
      for (const r of rows.values()) {
        if (r.status !== "in_progress" || r.deadline === null) continue;
        ticking.add(r.id);
        if (!frame) frame = requestAnimationFrame(flush);
      }
    }, 1000);
  }).catch((err) => replace(body, h("p", { class: "alert", role: "alert" }, errorText(err))));

  return () => {
    clearInterval(tick);
    clearTimeout(saying);
    cancelAnimationFrame(frame);
    socket?.close();
  };
}
