// A browser benchmark of the teacher's live view: STUDENTS (default 1,000) students take a
// test over WebSocket, driven from Node, while headless chromium shows the live view.
// Reports the time from a student's save to the painted row (p50/p99), split into the
// server's part (save → the progress event reaching the page; the server batches progress
// every 200 ms) and the page's (event → row painted), and the page's JS heap and DOM size.
//
//   scripts/bench-web-live [STUDENTS] [QUESTIONS] [THINK_MS]
//
// Everything is seeded through the REST API (the wrapper raises the sign-up and sign-in
// throttles of its throw-away server). "Painted" is the start of the animation frame after
// the one whose DOM change a MutationObserver saw: the frame that changed the row has been
// painted by then, so this bounds paint from above by at most a frame.
import { chromium } from "playwright-core";

const BASE = process.env.TESTIT_URL;
const STUDENTS = Number(process.argv[2] || 1000);
const QUESTIONS = Number(process.argv[3] || 5);
const THINK_MS = Number(process.argv[4] || 1000);
const PASSWORD = "correct horse battery";
const run = Date.now().toString(36);
const now = () => performance.timeOrigin + performance.now();

async function call(method, path, body, token) {
  const response = await fetch(`${BASE}${path}`, {
    method,
    headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}
const login = async (email) => (await call("POST", "/api/users/token/obtain/", { email, password: PASSWORD })).access;

/** Runs `work` over `items`, `width` at a time. */
async function pool(items, width, work) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i], i);
    }
  }));
  return out;
}

function percentile(sorted, q) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
const ms = (x) => `${x.toFixed(0)} ms`;
const mib = (x) => `${(x / 1048576).toFixed(1)} MiB`;

// --- Seeding -------------------------------------------------------------------------------
let t0 = now();
const ownerEmail = `owner-${run}@bench.test`;
await call("POST", "/api/users/", { email: ownerEmail, password: PASSWORD, first_name: "Bench", last_name: "Owner", is_teacher: true });
const org = await call("POST", "/api/organizations/", { name: `Bench school ${run}` }, await login(ownerEmail));
const owner = await login(ownerEmail);
const students = await pool([...Array(STUDENTS).keys()], 4, async (i) => {
  const email = `s${i}-${run}@bench.test`;
  const user = await call("POST", "/api/users/", { email, password: PASSWORD, first_name: `Student${String(i).padStart(4, "0")}`, last_name: "Bench", is_teacher: false, organization_id: org.id });
  return { id: user.id, email, token: await login(email) };
});
const group = await call("POST", "/api/groups/", { name: "Everyone", description: "", members: students.map((s) => s.id) }, owner);
const test = await call("POST", "/api/tests/", {
  name: "Bench quiz", available_for: [group.id],
  questions: Array.from({ length: QUESTIONS }, (_, i) => ({
    text: `Question ${i + 1}`, type: "radio", number_in_test: i + 1, points: 1,
    body: { variants: [{ text: "yes", is_correct: true }, { text: "no", is_correct: false }] },
  })),
}, owner);
console.log(`seeded ${STUDENTS} students and a ${QUESTIONS}-question test through REST in ${((now() - t0) / 1000).toFixed(1)} s`);

// --- The teacher's page --------------------------------------------------------------------
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
});
// BENCH_CSS: a stylesheet added to the page, to try a layout change without rebuilding the
// server (the page's CSP is bypassed for it).
const extraCss = process.env.BENCH_CSS || "";
const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, bypassCSP: Boolean(extraCss) });
// Before the app's own listener, note when each WebSocket message arrives (the raw text,
// parsed afterwards so the page's work is not inflated), and watch the table's rows.
await context.addInitScript(() => {
  const Native = window.WebSocket;
  window.__arrivals = [];
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (event) => window.__arrivals.push([performance.timeOrigin + performance.now(), event.data]));
    }
  };
  window.__rows = [];
  window.__watchRows = () => {
    const tbody = document.querySelector("table.live tbody");
    const observer = new MutationObserver((mutations) => {
      const at = performance.timeOrigin + performance.now();
      const seen = new Set();
      for (const m of mutations) {
        const tr = (m.target.nodeType === 1 ? m.target : m.target.parentElement)?.closest("tr[data-user]");
        if (tr) seen.add(tr);
      }
      const batch = [];
      for (const tr of seen) batch.push([Number(tr.dataset.user), tr.querySelector("td.answered")?.textContent || "", tr.dataset.status, at, 0]);
      requestAnimationFrame(() => {
        const painted = performance.timeOrigin + performance.now();
        for (const entry of batch) entry[4] = painted;
      });
      window.__rows.push(...batch);
    });
    observer.observe(tbody, { subtree: true, childList: true, characterData: true });
  };
});
const page = await context.newPage();
const cdp = await context.newCDPSession(page);
await cdp.send("Performance.enable");
const metrics = async () => {
  const { metrics: list } = await cdp.send("Performance.getMetrics");
  return Object.fromEntries(list.map((m) => [m.name, m.value]));
};
await page.goto(`${BASE}/app/#/signin`);
await page.getByLabel("Email").fill(ownerEmail);
await page.getByLabel("Password").fill(PASSWORD);
await page.getByRole("button", { name: "Sign in" }).click();
await page.getByRole("heading", { name: "Tests" }).waitFor();
t0 = now();
await page.goto(`${BASE}/app/#/tests/${test.id}/watch`);
if (extraCss) await page.addStyleTag({ content: extraCss });
await page.locator(".connection", { hasText: "Live" }).waitFor();
await page.waitForFunction((n) => document.querySelectorAll("table.live tbody tr[data-user]").length === n, STUDENTS, { timeout: 120_000 });
const opened = now() - t0;
await page.evaluate(() => window.__watchRows());
const idle = await metrics();
console.log(`live view with ${STUDENTS} rows ready in ${ms(opened)}: JS heap ${mib(idle.JSHeapUsedSize)}, ${idle.Nodes} DOM nodes`);

// --- The students --------------------------------------------------------------------------
const sends = []; // [user, answered, time]
let peakHeap = idle.JSHeapUsedSize;
const sampler = setInterval(async () => {
  try { peakHeap = Math.max(peakHeap, (await metrics()).JSHeapUsedSize); } catch { /* closing */ }
}, 500);

function connect(student) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${BASE.replace(/^http/, "ws")}/ws`, ["testit", `bearer.${student.token}`]);
    const waiting = new Map(); // type → resolve
    ws.addEventListener("open", () => resolve({
      send: (m) => ws.send(JSON.stringify(m)),
      next: (type) => new Promise((done) => waiting.set(type, done)),
      close: () => ws.close(),
    }));
    ws.addEventListener("error", reject);
    ws.addEventListener("message", (event) => {
      const m = JSON.parse(event.data);
      if (m.type === "error") console.error(`student ${student.id}: ${m.detail}`);
      const done = waiting.get(m.type);
      if (done) { waiting.delete(m.type); done(m); }
    });
  });
}
const sleep = (t) => new Promise((resolve) => setTimeout(resolve, t));
const think = () => sleep(THINK_MS * (0.5 + Math.random()));

t0 = now();
const sockets = await pool(students, 50, connect);
console.log(`${STUDENTS} student WebSockets open in ${ms(now() - t0)}`);
const started = now();
await Promise.all(students.map(async (student, i) => {
  const ws = sockets[i];
  // Spread the starts over a think time, as a class opening the test does.
  await sleep(Math.random() * THINK_MS);
  ws.send({ type: "start", test: test.public_uuid });
  const { test: view } = await ws.next("attempt");
  for (let k = 0; k < view.questions.length; k += 1) {
    await think();
    const q = view.questions[k];
    const saved = ws.next("saved");
    sends.push([student.id, k + 1, now()]);
    ws.send({ type: "save", question: q.id, body: { picked_variant: { id: q.body.variants[0].id } } });
    await saved;
  }
  await think();
  const submitted = ws.next("submitted");
  ws.send({ type: "submit" });
  await submitted;
}));
const drove = now() - started;
await page.waitForFunction((n) => document.querySelectorAll('table.live tbody tr[data-status="graded"]').length === n, STUDENTS, { timeout: 120_000 });
const allGraded = now() - started;
clearInterval(sampler);
const end = await metrics();
peakHeap = Math.max(peakHeap, end.JSHeapUsedSize);
for (const ws of sockets) ws.close();

// --- Latencies -----------------------------------------------------------------------------
const rows = await page.evaluate(() => window.__rows);
const arrivals = (await page.evaluate(() => window.__arrivals)).map(([at, text]) => [at, JSON.parse(text)]);
const firstRow = new Map(); // "user:answered" → [dom, painted]
for (const [user, answered, , dom, painted] of rows) {
  const n = Number(answered.split("/")[0]);
  if (!Number.isFinite(n)) continue;
  const key = `${user}:${n}`;
  if (!firstRow.has(key)) firstRow.set(key, [dom, painted || dom]);
}
const firstArrival = new Map(); // "user:answered" → time the progress event reached the page
for (const [at, m] of arrivals) {
  if (m.type !== "progress") continue;
  for (const p of m.attempts) {
    const user = typeof p.user === "object" ? p.user.id : p.user;
    const key = `${user}:${p.answered}`;
    if (!firstArrival.has(key)) firstArrival.set(key, at);
  }
}
const total = [];
const server = [];
const client = [];
const domOnly = [];
let missing = 0;
for (const [user, k, sent] of sends) {
  const key = `${user}:${k}`;
  const row = firstRow.get(key);
  const arrived = firstArrival.get(key);
  if (!row || arrived === undefined) { missing += 1; continue; }
  total.push(row[1] - sent);
  server.push(arrived - sent);
  client.push(row[1] - arrived);
  domOnly.push(row[0] - arrived);
}
for (const list of [total, server, client, domOnly]) list.sort((a, b) => a - b);
const line = (name, list) => `${name.padEnd(44)} p50 ${ms(percentile(list, 0.5)).padStart(7)}  p99 ${ms(percentile(list, 0.99)).padStart(7)}  max ${ms(list[list.length - 1]).padStart(7)}`;
console.log(`${sends.length} saves by ${STUDENTS} students in ${(drove / 1000).toFixed(1)} s (think ${THINK_MS} ms); every row graded ${((allGraded - drove) / 1000).toFixed(1)} s after the last submit; ${missing} saves not seen as their own count (a later count painted first)`);
console.log(line("save → row painted (end to end)", total));
console.log(line("  save → progress event at the page (server)", server));
console.log(line("  event at the page → row painted (page)", client));
console.log(line("  event at the page → DOM changed", domOnly));
console.log(`page: JS heap ${mib(idle.JSHeapUsedSize)} idle with ${STUDENTS} rows, peak ${mib(peakHeap)}, ${mib(end.JSHeapUsedSize)} at the end; ${end.Nodes} DOM nodes; ${end.LayoutCount} layouts, ${end.RecalcStyleCount} style recalcs, ${end.ScriptDuration.toFixed(1)} s of script, ${end.LayoutDuration.toFixed(1)} s of layout`);
await browser.close();
