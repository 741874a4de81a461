// The web app in a real browser: a teacher and a student, each in a browser context of
// their own, from registration to a live test watched as it is taken. Every wait is on
// visible state (Playwright's auto-waiting expectations), never on time.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "@playwright/test";

const PASSWORD = "correct horse battery";
const run = Date.now().toString(36);
const teacher = { first: "Tess", last: "Teacher", email: `tess-${run}@school.test` };
const student = { first: "Sam", last: "Student", email: `sam-${run}@school.test` };
const ORG = `Springfield High ${run}`;
const GROUP = "Class 7A";
const TEST = "Capitals and numbers";

/** No horizontal scrolling at the page's current width. */
async function expectNoHorizontalScroll(page) {
  const { scroll, width } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    width: document.documentElement.clientWidth,
  }));
  expect(scroll, "page is wider than the viewport").toBeLessThanOrEqual(width);
}

/** No WCAG 2.1 A or AA violation that axe can find on the page as it is. */
async function expectAccessible(page, where) {
  const { violations } = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
    .analyze();
  const found = violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  expect(found, `accessibility of ${where}`).toEqual([]);
}

/** Fails the test on any error the page logs, CSP violations included. */
function watchConsole(page, name) {
  const problems = [];
  page.on("console", (message) => {
    if (message.type() === "error" && !/WebSocket|Failed to load resource/.test(message.text())) {
      problems.push(`${name}: ${message.text()}`);
    }
  });
  page.on("pageerror", (error) => problems.push(`${name}: ${error.message}`));
  return problems;
}

async function register(page, who, { teacherOf, joinOrg } = {}) {
  await page.goto("/");
  // "/" says what TestIT is, beside signing in and registering.
  await expect(page.getByRole("heading", { name: "TestIT: online tests for schools" })).toBeVisible();
  await page.getByRole("link", { name: "Register" }).first().click();
  await expect(page.getByRole("heading", { name: "Register" })).toBeVisible();
  await page.getByLabel("First name").fill(who.first);
  await page.getByLabel("Last name").fill(who.last);
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password").fill(PASSWORD);
  if (teacherOf) {
    await page.getByLabel("a teacher", { exact: true }).check();
    await page.getByLabel("Organization name").fill(teacherOf);
  } else {
    await page.getByLabel("Organization to join").selectOption({ label: joinOrg });
  }
  await page.getByRole("button", { name: "Register" }).click();
}

test("a teacher and a student: registration, groups, a test taken live and watched live", async ({ browser }) => {
  const teacherContext = await browser.newContext();
  const studentContext = await browser.newContext({ viewport: { width: 360, height: 740 } });
  const tp = await teacherContext.newPage();
  const sp = await studentContext.newPage();
  const problems = [...watchConsole(tp, "teacher"), ...watchConsole(sp, "student")];

  await test.step("the teacher registers, creating an organization", async () => {
    await register(tp, teacher, { teacherOf: ORG });
    await expect(tp.getByRole("heading", { name: "Tests" })).toBeVisible();
    await expect(tp.getByRole("navigation", { name: "Main" })).toContainText("Groups");
    await expectAccessible(tp, "the tests page");
  });

  await test.step("the teacher creates a group", async () => {
    await tp.getByRole("link", { name: "Groups" }).click();
    await tp.getByLabel("Group name").fill(GROUP);
    await tp.getByRole("button", { name: "Create group" }).click();
    await expect(tp.getByRole("region", { name: GROUP })).toContainText("No members yet.");
    await expectAccessible(tp, "the groups page");
  });

  await test.step("the student registers into the organization (at 360 px)", async () => {
    await register(sp, student, { joinOrg: ORG });
    await expect(sp.getByRole("heading", { name: "My tests" })).toBeVisible();
    await expectNoHorizontalScroll(sp);
  });

  await test.step("the teacher adds the student to the group", async () => {
    await tp.reload();
    const group = tp.getByRole("region", { name: GROUP });
    await group.getByLabel(`Add to ${GROUP}`).selectOption({ label: `${student.first} ${student.last} (${student.email})` });
    await group.getByRole("button", { name: "Add", exact: true }).click();
    await expect(group.getByRole("listitem")).toContainText(student.email);
  });

  let link;
  await test.step("the teacher writes a test for the group", async () => {
    await tp.getByRole("link", { name: "Tests" }).click();
    await tp.getByRole("link", { name: "New test" }).click();
    await tp.getByLabel("Name", { exact: true }).fill(TEST);
    await tp.getByLabel("Time limit in minutes (empty: none)").fill("30");
    await tp.getByLabel(GROUP).check();

    await tp.getByRole("button", { name: "Text answer" }).click();
    const q1 = tp.locator(".question-editor").nth(0);
    await q1.getByLabel("Question", { exact: true }).fill("Capital of France?");
    await q1.getByLabel("Accepted answer 1").fill("Paris");

    await tp.getByRole("button", { name: "One choice" }).click();
    const q2 = tp.locator(".question-editor").nth(1);
    await q2.getByLabel("Question", { exact: true }).fill("2 + 2?");
    await q2.getByLabel("Choice 1", { exact: true }).fill("3");
    await q2.getByLabel("Choice 2", { exact: true }).fill("4");
    await q2.getByLabel("correct").nth(1).check();

    await tp.getByRole("button", { name: "Several choices" }).click();
    const q3 = tp.locator(".question-editor").nth(2);
    await q3.getByLabel("Question", { exact: true }).fill("Primes?");
    await q3.getByLabel("Choice 1", { exact: true }).fill("2");
    await q3.getByLabel("Choice 2", { exact: true }).fill("4");
    await q3.getByRole("button", { name: "Add a choice" }).click();
    await q3.getByLabel("Choice 3", { exact: true }).fill("3");
    await q3.getByLabel("correct").nth(2).check();
    await expectAccessible(tp, "the test editor");

    await tp.getByRole("button", { name: "Save test" }).click();
    await expect(tp.getByRole("heading", { name: `Edit: ${TEST}` })).toBeVisible();
    link = await tp.getByLabel("Link for students").inputValue();
    expect(link).toMatch(/\/app\/#\/take\/[0-9a-f-]{36}$/);
  });

  await test.step("the teacher watches the test live: the student has not started", async () => {
    await tp.getByRole("link", { name: "Watch live" }).click();
    await expect(tp.getByText("Live", { exact: true })).toBeVisible();
    const row = tp.getByRole("row", { name: new RegExp(student.first) });
    await expect(row.locator("td.status")).toHaveText("not started");
  });

  const row = tp.getByRole("row", { name: new RegExp(student.first) });
  await test.step("the student opens the link and answers; each answer is saved", async () => {
    await sp.goto(link);
    await expect(sp.getByRole("heading", { name: TEST })).toBeVisible();
    await expect(sp.getByText("3 questions")).toBeVisible();
    await sp.getByRole("button", { name: "Start the test" }).click();
    await expect(sp.getByText("Online: answers are saved as you go")).toBeVisible();
    await expect(sp.getByRole("timer")).toContainText(/Time left: (30:00|29:\d\d)/);
    const q1 = sp.locator("fieldset.question").nth(0);
    await q1.getByLabel("Answer to question 1").fill("  paris ");
    await expect(q1.locator(".save-state")).toHaveText("Saved");
    const q2 = sp.locator("fieldset.question").nth(1);
    await q2.getByLabel("4", { exact: true }).check();
    await expect(q2.locator(".save-state")).toHaveText("Saved");
    await expectNoHorizontalScroll(sp);
    await expectAccessible(sp, "the test being taken");
  });

  await test.step("the teacher sees the student in progress", async () => {
    await expect(row.locator("td.status")).toHaveText("in progress");
    await expect(row.locator("td.answered")).toHaveText("2/3");
    await expect(row.locator("td.time")).toHaveText(/^(30:00|29:\d\d)$/);
  });

  await test.step("a reload gives the student every saved answer back", async () => {
    await sp.reload();
    const q1 = sp.locator("fieldset.question").nth(0);
    await expect(q1.getByLabel("Answer to question 1")).toHaveValue("  paris ");
    await expect(q1.locator(".save-state")).toHaveText("Saved");
    const q2 = sp.locator("fieldset.question").nth(1);
    await expect(q2.getByLabel("4", { exact: true })).toBeChecked();
    const q3 = sp.locator("fieldset.question").nth(2);
    await q3.getByLabel("2", { exact: true }).check();
    await expect(q3.locator(".save-state")).toHaveText("Saved");
    await q3.getByLabel("3", { exact: true }).check();
    await expect(q3.locator(".save-state")).toHaveText("Saved");
    await expect(row.locator("td.answered")).toHaveText("3/3");
  });

  await test.step("the student submits and sees the result", async () => {
    await sp.getByRole("button", { name: "Submit", exact: true }).click();
    await sp.getByRole("button", { name: "Yes, submit" }).click();
    await expect(sp.getByText("Score: 3 / 3")).toBeVisible();
    await expect(sp.getByRole("heading", { name: `Result: ${TEST}` })).toBeVisible();
    await expectAccessible(sp, "the result page");
    await expectNoHorizontalScroll(sp);
  });

  await test.step("the teacher's row turns graded, with the score and the details", async () => {
    await expect(row.locator("td.status")).toHaveText("graded");
    await expect(row.locator("td.score")).toHaveText("3 / 3");
    await expect(tp.locator("tfoot")).toContainText("1/1 right");
    await row.getByRole("button", { name: `Details of ${student.first} ${student.last}` }).click();
    await expect(tp.locator("tr.details")).toContainText("Capital of France?");
    await expectAccessible(tp, "the live view");
    await expectNoHorizontalScroll(tp);
    await tp.setViewportSize({ width: 360, height: 740 });
    await expect(tp.locator("td.status").first()).toBeVisible();
    await expectNoHorizontalScroll(tp);
    await tp.setViewportSize({ width: 1280, height: 720 });
  });

  await test.step("the teacher downloads the results as xlsx", async () => {
    const download = tp.waitForEvent("download");
    await tp.getByRole("link", { name: "Download results (.xlsx)" }).click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/\.xlsx$/);
    // A workbook is a zip archive holding xl/workbook.xml (the API tests read its cells).
    const bytes = readFileSync(await file.path());
    expect(bytes.subarray(0, 4).toString("binary")).toBe("PK\x03\x04");
    expect(bytes.includes(Buffer.from("xl/workbook.xml"))).toBe(true);
    expect(bytes.length).toBeGreaterThan(1000);
  });

  await test.step("the student's home lists the result", async () => {
    await sp.getByRole("link", { name: "My tests", exact: true }).click();
    await expect(sp.getByRole("region", { name: "Your results" })).toContainText("3 / 3");
  });

  expect(problems).toEqual([]);
  await teacherContext.close();
  await studentContext.close();
});

test("signing in works with the keyboard alone", async ({ page, request }) => {
  const who = { email: `kim-${run}@school.test` };
  const created = await request.post("/api/users/", {
    data: { email: who.email, password: PASSWORD, first_name: "Kim", last_name: "Keys", is_teacher: false },
  });
  expect(created.status()).toBe(201);
  await page.goto("/app/#/signin");
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeFocused();
  const email = page.getByLabel("Email");
  for (let i = 0; i < 10 && !(await email.evaluate((el) => el === document.activeElement)); i += 1) {
    await page.keyboard.press("Tab");
  }
  await expect(email).toBeFocused();
  await page.keyboard.type(who.email);
  await page.keyboard.press("Tab");
  await expect(page.getByLabel("Password")).toBeFocused();
  await page.keyboard.type("wrong password");
  await page.keyboard.press("Enter");
  await expect(page.getByRole("alert")).toHaveText("Wrong email or password. Check both and try again.");
  await expect(page.getByLabel("Password")).toBeFocused();
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { name: "My tests" })).toBeVisible();
});

test("pages fit 360 px without horizontal scrolling, and refuse inline code", async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 } });
  const page = await context.newPage();
  const problems = watchConsole(page, "narrow");
  for (const path of ["/app/#/signin", "/app/#/register"]) {
    await page.goto(path);
    await expect(page.locator("main h1")).toBeVisible();
    await expectNoHorizontalScroll(page);
    await expectAccessible(page, path);
  }
  await page.getByLabel("a teacher", { exact: true }).check();
  await expect(page.getByLabel("Organization name")).toBeVisible();
  await expectNoHorizontalScroll(page);
  // The policy is in force: an inline script does not run.
  const ran = await page.evaluate(() => {
    const script = document.createElement("script");
    script.textContent = "window.__inline = true";
    document.body.append(script);
    return window.__inline === true;
  });
  expect(ran).toBe(false);
  expect(problems.filter((p) => !/Content Security Policy/.test(p))).toEqual([]);
  await context.close();
});

test("the server submits at the deadline and the student lands on the result", async ({ page, request }) => {
  // Seeded through the API: an owner, a student in a group, a test with a 4 s limit.
  const post = async (path, data, token) => {
    const response = await request.post(path, { data, headers: token ? { Authorization: `Bearer ${token}` } : {} });
    expect(response.ok(), `${path}: ${await response.text()}`).toBeTruthy();
    return response.json();
  };
  const login = async (email) => (await post("/api/users/token/obtain/", { email, password: PASSWORD })).access;
  const owner = `owner-${run}@deadline.test`;
  await post("/api/users/", { email: owner, password: PASSWORD, first_name: "Olga", last_name: "Owner", is_teacher: true });
  let token = await login(owner);
  const org = await post("/api/organizations/", { name: `Deadline school ${run}` }, token);
  token = await login(owner);
  const pupil = `pupil-${run}@deadline.test`;
  const student = await post("/api/users/", { email: pupil, password: PASSWORD, first_name: "Pia", last_name: "Pupil", is_teacher: false, organization_id: org.id });
  const group = await post("/api/groups/", { name: "Quick", description: "", members: [student.id] }, token);
  const quick = await post("/api/tests/", {
    name: "Quick quiz", time_limit_seconds: 4, available_for: [group.id],
    questions: [{ text: "Capital of Italy?", type: "text", number_in_test: 1, points: 1, body: { variants: [{ text: "Rome", is_correct: true }] } }],
  }, token);

  await page.goto(`/app/#/take/${quick.public_uuid}`);
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  await page.getByLabel("Email").fill(pupil);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  // Back to the link after signing in.
  await page.getByRole("button", { name: "Start the test" }).click();
  await expect(page.getByRole("timer")).toContainText("Time left: 0:0");
  await page.getByLabel("Answer to question 1").fill("rome");
  await expect(page.locator(".save-state")).toHaveText("Saved");
  // Nobody presses Submit: the server does, at the deadline.
  await expect(page.getByText("Score: 1 / 1")).toBeVisible({ timeout: 15_000 });
  await expect(page).toHaveURL(/#\/result\/\d+$/);
  // The limit holds on REST too: posting answers now, as the original client does, makes
  // no second completion; the answer is the one the server submitted at the deadline.
  const late = await request.post("/api/completions/", {
    data: { test: quick.public_uuid, answers: [{ question: quick.questions[0].id, body: { picked_variant: { text: "Paris" } } }] },
    headers: { Authorization: `Bearer ${await login(pupil)}` },
  });
  expect(late.status(), await late.text()).toBe(200);
  const submitted = await late.json();
  expect(submitted.id).toBe(Number(page.url().match(/result\/(\d+)$/)[1]));
  expect(submitted.score).toBe(1);
});

test("the live view reconnects by itself and catches up from a fresh snapshot", async ({ page, request }) => {
  const post = async (path, data, token) => {
    const response = await request.post(path, { data, headers: token ? { Authorization: `Bearer ${token}` } : {} });
    expect(response.ok(), `${path}: ${await response.text()}`).toBeTruthy();
    return response.json();
  };
  const login = async (email) => (await post("/api/users/token/obtain/", { email, password: PASSWORD })).access;
  const owner = `owner-${run}@reconnect.test`;
  await post("/api/users/", { email: owner, password: PASSWORD, first_name: "Rita", last_name: "Owner", is_teacher: true });
  let token = await login(owner);
  const org = await post("/api/organizations/", { name: `Reconnect school ${run}` }, token);
  token = await login(owner);
  const pupil = `rex-${run}@reconnect.test`;
  const student = await post("/api/users/", { email: pupil, password: PASSWORD, first_name: "Rex", last_name: "Pupil", is_teacher: false, organization_id: org.id });
  const group = await post("/api/groups/", { name: "Reconnect", description: "", members: [student.id] }, token);
  const quiz = await post("/api/tests/", {
    name: "Reconnect quiz", available_for: [group.id],
    questions: [{ text: "Capital of Spain?", type: "text", number_in_test: 1, points: 1, body: { variants: [{ text: "Madrid", is_correct: true }] } }],
  }, token);

  // Every WebSocket of the page goes through this route, which can cut it and hold the
  // next connection back.
  const sockets = [];
  let hold = null;
  await page.routeWebSocket(/\/ws$/, async (ws) => {
    sockets.push(ws);
    if (hold) await hold;
    ws.connectToServer();
  });
  await page.goto("/app/#/signin");
  await page.getByLabel("Email").fill(owner);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Tests" })).toBeVisible();
  await page.goto(`/app/#/tests/${quiz.id}/watch`);
  const connection = page.locator(".connection");
  await expect(connection).toHaveText("Live");
  const row = page.getByRole("row", { name: /Rex/ });
  await expect(row.locator("td.status")).toHaveText("not started");

  // The connection drops; the student submits while the view is away.
  let release;
  hold = new Promise((resolve) => { release = resolve; });
  await sockets[0].close();
  await expect(connection).not.toHaveText("Live");
  await expect.poll(() => sockets.length).toBe(2);
  const studentToken = await login(pupil);
  await post("/api/completions/", { test: quiz.public_uuid, answers: [{ question: quiz.questions[0].id, body: { picked_variant: { text: "madrid" } } }] }, studentToken);
  await expect(row.locator("td.status")).toHaveText("not started");

  // Back online: the fresh snapshot has the completion the events were missed for.
  release();
  await expect(connection).toHaveText("Live");
  await expect(row.locator("td.status")).toHaveText("graded");
  await expect(row.locator("td.score")).toHaveText("1 / 1");
});

test("code questions: bad testing code is refused inline, and a code answer is graded live", async ({ browser, request }) => {
  // The sandbox's Python runtime must be ready (cached in target/tmp/testit-runtimes, or
  // built on a machine's first run).
  await expect.poll(async () => (await (await request.get("/api/languages/")).json())[0].status, { timeout: 110_000 }).toBe("ready");
  const post = async (path, data, token) => {
    const response = await request.post(path, { data, headers: token ? { Authorization: `Bearer ${token}` } : {} });
    expect(response.ok(), `${path}: ${await response.text()}`).toBeTruthy();
    return response.json();
  };
  const login = async (email) => (await post("/api/users/token/obtain/", { email, password: PASSWORD })).access;
  const owner = `owner-${run}@code.test`;
  await post("/api/users/", { email: owner, password: PASSWORD, first_name: "Cora", last_name: "Owner", is_teacher: true });
  const token = await login(owner);
  const org = await post("/api/organizations/", { name: `Code school ${run}` }, token);
  const pupil = `cody-${run}@code.test`;
  const student = await post("/api/users/", { email: pupil, password: PASSWORD, first_name: "Cody", last_name: "Pupil", is_teacher: false, organization_id: org.id });
  await post("/api/groups/", { name: "Coders", description: "", members: [student.id] }, await login(owner));

  const signIn = async (page, email) => {
    await page.goto("/app/#/signin");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
  };
  const teacherContext = await browser.newContext();
  const tp = await teacherContext.newPage();
  await signIn(tp, owner);
  await tp.getByRole("link", { name: "New test" }).click();
  await tp.getByLabel("Name", { exact: true }).fill("Code quiz");
  await tp.getByLabel("Coders").check();
  await tp.getByRole("button", { name: "Code", exact: true }).click();
  const q = tp.locator(".question-editor").nth(0);
  await q.getByLabel("Question", { exact: true }).fill("Write add(a, b)");
  const testing = q.getByLabel("Testing code (asserts, or test_* functions)");
  await testing.fill("assert abs(add(1, 2) - 3) < 1");
  await tp.getByRole("button", { name: "Save test" }).click();
  await expect(tp.getByRole("alert")).toContainText("The test was not saved");
  await expect(q.locator(".field-error").filter({ hasText: "cannot grade" })).toBeVisible();
  await expect(testing).toHaveAttribute("aria-invalid", "true");
  await testing.fill("assert add(1, 2) == 3");
  await tp.getByRole("button", { name: "Save test" }).click();
  await expect(tp.getByRole("heading", { name: "Edit: Code quiz" })).toBeVisible();
  const link = await tp.getByLabel("Link for students").inputValue();

  const studentContext = await browser.newContext();
  const sp = await studentContext.newPage();
  await signIn(sp, pupil);
  await expect(sp.getByRole("heading", { name: "My tests" })).toBeVisible();
  await sp.goto(link);
  await sp.getByRole("button", { name: "Start the test" }).click();
  await sp.getByLabel("Code for question 1").fill("def add(a, b):\n    return a + b\n");
  await expect(sp.locator(".save-state")).toHaveText("Saved");
  await sp.getByRole("button", { name: "Submit", exact: true }).click();
  await sp.getByRole("button", { name: "Yes, submit" }).click();
  // "Grading…" first (perhaps too briefly to see), then the score, without a reload.
  await expect(sp.getByText("Score: 1 / 1")).toBeVisible({ timeout: 30_000 });
  await teacherContext.close();
  await studentContext.close();
});

/** Calls the REST API as a test's setup would (through the page's request context). */
function restClient(request) {
  const post = async (path, data, token) => {
    const response = await request.post(path, { data, headers: token ? { Authorization: `Bearer ${token}` } : {} });
    expect(response.ok(), `${path}: ${await response.text()}`).toBeTruthy();
    return response.json();
  };
  const login = async (email) => (await post("/api/users/token/obtain/", { email, password: PASSWORD })).access;
  return { post, login };
}

async function signInAs(page, email) {
  // Signing out goes to the sign-in page once the server has revoked the session: wait for
  // that page of its own before going there, or it would come back over the form half-filled.
  const signOut = page.getByRole("button", { name: "Sign out" });
  if (await signOut.count()) await expect(signOut).toHaveCount(0);
  await page.goto("/app/#/signin");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
}

test("two students take a test at once while the teacher watches both", async ({ browser, request }) => {
  const { post, login } = restClient(request);
  const owner = `owner-${run}@pair.test`;
  await post("/api/users/", { email: owner, password: PASSWORD, first_name: "Paula", last_name: "Owner", is_teacher: true });
  const org = await post("/api/organizations/", { name: `Pair school ${run}` }, await login(owner));
  const token = await login(owner);
  const pupils = [
    { first: "Ada", email: `ada-${run}@pair.test` },
    { first: "Ben", email: `ben-${run}@pair.test` },
  ];
  const ids = [];
  for (const p of pupils) {
    ids.push((await post("/api/users/", { email: p.email, password: PASSWORD, first_name: p.first, last_name: "Pupil", is_teacher: false, organization_id: org.id })).id);
  }
  const group = await post("/api/groups/", { name: "Pairs", description: "", members: ids }, token);
  const quiz = await post("/api/tests/", {
    name: "Pair quiz", time_limit_seconds: 1800, max_attempts: 1, available_for: [group.id],
    questions: [
      { text: "Capital of Portugal?", type: "text", number_in_test: 1, points: 1, body: { variants: [{ text: "Lisbon", is_correct: true }] } },
      { text: "3 + 4?", type: "radio", number_in_test: 2, points: 1, body: { variants: [{ text: "7", is_correct: true }, { text: "8", is_correct: false }] } },
    ],
  }, token);

  const teacherContext = await browser.newContext();
  const tp = await teacherContext.newPage();
  const problems = watchConsole(tp, "teacher");
  await signInAs(tp, owner);
  await expect(tp.getByRole("link", { name: "Edit Pair quiz" })).toBeVisible();
  await expect(tp.locator("main")).not.toContainText("null");
  await tp.goto(`/app/#/tests/${quiz.id}/watch`);
  await expect(tp.locator(".connection")).toHaveText("Live");
  const rows = pupils.map((p) => tp.getByRole("row", { name: new RegExp(p.first) }));
  for (const row of rows) await expect(row.locator("td.status")).toHaveText("not started");

  // Each student opens the test from their home page's list, both in the same moment.
  const pages = [];
  for (const p of pupils) {
    const context = await browser.newContext({ viewport: { width: 360, height: 740 } });
    const page = await context.newPage();
    problems.push(...watchConsole(page, p.first));
    await signInAs(page, p.email);
    const open = page.getByRole("region", { name: "Tests open to you" });
    await expect(open).toContainText("0 of 1 attempts used");
    // A skipped part of the page (a note that does not apply) leaves no trace.
    await expect(page.locator("main")).not.toContainText("null");
    await open.getByRole("link", { name: "Pair quiz" }).click();
    await expect(page.getByRole("heading", { name: "Pair quiz" })).toBeVisible();
    pages.push(page);
  }
  await Promise.all(pages.map((page) => page.getByRole("button", { name: "Start the test" }).click()));
  for (const row of rows) await expect(row.locator("td.status")).toHaveText("in progress");
  for (const row of rows) await expect(row.locator("td.answered")).toHaveText("0/2");

  const [ada, ben] = pages;
  // Ada answers one question, Ben both: the teacher sees each student's own count.
  await Promise.all([
    ada.getByLabel("Answer to question 1").fill("Lisbon"),
    ben.getByLabel("Answer to question 1").fill("Porto"),
  ]);
  await ben.getByLabel("7", { exact: true }).check();
  for (const page of pages) {
    await expect(page.locator("fieldset.question").nth(0).locator(".save-state")).toHaveText("Saved");
  }
  await expect(ben.locator("fieldset.question").nth(1).locator(".save-state")).toHaveText("Saved");
  await expect(rows[0].locator("td.answered")).toHaveText("1/2");
  await expect(rows[1].locator("td.answered")).toHaveText("2/2");

  // Both submit at once.
  await Promise.all(pages.map(async (page) => {
    await page.getByRole("button", { name: "Submit", exact: true }).click();
    await page.getByRole("button", { name: "Yes, submit" }).click();
  }));
  await expect(ada.getByText("Score: 1 / 2")).toBeVisible();
  await expect(ben.getByText("Score: 1 / 2")).toBeVisible();
  for (const row of rows) {
    await expect(row.locator("td.status")).toHaveText("graded");
    await expect(row.locator("td.score")).toHaveText("1 / 2");
  }
  await expect(tp.locator(".counts")).toHaveText("2 graded");

  // Their single attempt is used: the home page says so.
  await ada.getByRole("link", { name: "My tests", exact: true }).click();
  await expect(ada.getByRole("region", { name: "Tests open to you" })).toContainText("no attempts left");
  expect(problems).toEqual([]);
  await teacherContext.close();
  for (const page of pages) await page.context().close();
});

test("bad input says what to do: a wrong password, an email already registered", async ({ page, request }) => {
  const { post } = restClient(request);
  const taken = `taken-${run}@bad.test`;
  await post("/api/users/", { email: taken, password: PASSWORD, first_name: "Tina", last_name: "Taken", is_teacher: true });

  await test.step("a wrong password is refused with a message, and the email is kept", async () => {
    await page.goto("/app/#/signin");
    await page.getByLabel("Email").fill(taken);
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("alert")).toHaveText("Wrong email or password. Check both and try again.");
    await expect(page.getByLabel("Email")).toHaveValue(taken);
    await expect(page.getByLabel("Password")).toBeFocused();
    // An email nobody registered gets the very same answer (nothing to learn from it).
    await page.getByLabel("Email").fill(`nobody-${run}@bad.test`);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("alert")).toHaveText("Wrong email or password. Check both and try again.");
  });

  await test.step("registering an email already in use offers to sign in instead", async () => {
    await page.getByRole("link", { name: "Register" }).first().click();
    await page.getByLabel("First name").fill("Tina");
    await page.getByLabel("Last name").fill("Again");
    await page.getByLabel("Email").fill(taken);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByLabel("a teacher", { exact: true }).check();
    await page.getByLabel("Organization name").fill(`Twice school ${run}`);
    await page.getByRole("button", { name: "Register" }).click();
    const email = page.getByLabel("Email");
    await expect(email).toHaveAttribute("aria-invalid", "true");
    const error = page.locator(".field-error").filter({ hasText: "already exists" });
    await expect(error).toHaveText("An account with this email already exists. Sign in instead, or use another email.");
    await expect(email).toBeFocused();
    await expectAccessible(page, "the register page with an error");
    await error.getByRole("link", { name: "Sign in" }).click();
    await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  });
});

/** The newest password-reset link the server emailed to `to` (its outbox), once it is there. */
async function resetLinkFor(to) {
  const outbox = process.env.TESTIT_OUTBOX;
  expect(outbox, "scripts/test-web sets TESTIT_OUTBOX").toBeTruthy();
  let link = null;
  await expect.poll(() => {
    const files = existsSync(outbox) ? readdirSync(outbox).filter((f) => f.endsWith(".eml")) : [];
    for (const name of files.sort().reverse()) {
      // Quoted-printable: long lines are cut with soft breaks ("=" at the end of a line).
      const text = readFileSync(join(outbox, name), "utf8").replace(/=\r?\n/g, "").replace(/=3D/g, "=");
      if (!text.includes(to)) continue;
      const found = text.match(/https?:\/\/\S+\/app\/#\/password-reset\/\d+\/[0-9a-f]{64}/);
      if (found) { link = found[0]; return true; }
    }
    return false;
  }, { message: `a reset email to ${to}` }).toBe(true);
  return link;
}

test("a forgotten password is set again through the emailed link, which works once", async ({ page, request }) => {
  const { post } = restClient(request);
  const email = `forgot-${run}@school.test`;
  await post("/api/users/", { email, password: PASSWORD, first_name: "Fay", last_name: "Forgot", is_teacher: true });
  const problems = watchConsole(page, "reset");

  await page.goto("/app/#/signin");
  await page.getByRole("link", { name: "Forgot your password?" }).click();
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Email me a link" }).click();
  await expect(page.getByRole("status").filter({ hasText: "on its way" })).toBeVisible();

  const link = await resetLinkFor(email);
  await page.goto(link);
  await expect(page.getByRole("heading", { name: "Set a new password" })).toBeVisible();
  await expectAccessible(page, "the new-password page");
  const fresh = "a brand new horse battery";
  await page.getByLabel("New password", { exact: true }).fill(fresh);
  await page.getByLabel("New password again").fill("something else");
  await page.getByRole("button", { name: "Set the password" }).click();
  await expect(page.getByRole("alert")).toHaveText("The two passwords differ: type the same one twice.");
  await page.getByLabel("New password again").fill(fresh);
  await page.getByRole("button", { name: "Set the password" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Your new password is set" })).toBeVisible();

  await page.getByRole("link", { name: "Sign in with it" }).click();
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(fresh);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
  await page.getByRole("button", { name: "Sign out" }).click();
  // Signing out ends on the sign-in page once the server has revoked the session; the
  // link is followed after that (before, that late step could take the page away from it).
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();

  // The same link again: refused, with the way to a new one.
  await page.goto(link);
  await page.getByLabel("New password", { exact: true }).fill("yet another horse battery");
  await page.getByLabel("New password again").fill("yet another horse battery");
  await page.getByRole("button", { name: "Set the password" }).click();
  await expect(page.getByRole("alert")).toContainText("does not work any more");
  await expect(page.getByRole("link", { name: "Email me a new link" })).toBeVisible();
  expect(problems).toEqual([]);
});

// --- Issue 31: keyboard and screen-reader users, a teacher's first hour, joining by link ---

/** Every axe rule of WCAG 2.0–2.2 A/AA and best practice. */
async function expectNoViolations(page, where) {
  const { violations } = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"])
    .analyze();
  const found = violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  expect(found, `accessibility of ${where}`).toEqual([]);
}

/** Presses Tab (or Shift+Tab) until `target` has the focus. */
async function tabTo(page, target, { back = false, most = 40 } = {}) {
  for (let i = 0; i < most; i += 1) {
    if (await target.evaluate((el) => el === document.activeElement).catch(() => false)) return;
    await page.keyboard.press(back ? "Shift+Tab" : "Tab");
  }
  await expect(target).toBeFocused();
}

/** Counts pointer events (a keyboard's Enter or Space makes none) and records what the
 * polite live region says. */
async function instrument(page) {
  await page.addInitScript(() => {
    window.__pointer = 0;
    for (const type of ["pointerdown", "mousedown", "mouseup"]) {
      window.addEventListener(type, () => { window.__pointer += 1; }, true);
    }
    window.__said = [];
    new MutationObserver((records) => {
      const status = document.getElementById("status");
      const there = records.some((r) => status && (r.target === status || status.contains(r.target)));
      if (there && status.textContent) window.__said.push(status.textContent);
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });
}

/** An owner, an organization, a group with the given students, through the REST API. */
async function school(request, tag, pupils = []) {
  const { post, login } = restClient(request);
  const owner = `owner-${run}@${tag}.test`;
  await post("/api/users/", { email: owner, password: PASSWORD, first_name: "Oona", last_name: `Owner ${tag}`, is_teacher: true });
  const org = await post("/api/organizations/", { name: `School ${tag} ${run}` }, await login(owner));
  const token = await login(owner);
  const ids = [];
  for (const p of pupils) {
    ids.push((await post("/api/users/", { email: p.email, password: PASSWORD, first_name: p.first, last_name: p.last || "Pupil", is_teacher: false, organization_id: org.id })).id);
  }
  const group = await post("/api/groups/", { name: `Class ${tag}`, description: "", members: ids }, token);
  return { owner, org, token, group, post, login };
}

test("a keyboard-only student, from sign-in to the result, with focus on each view's heading", async ({ page, request }) => {
  const pupil = { first: "Kira", last: "Keys", email: `kira-${run}@keys.test` };
  const { post, token, group } = await school(request, "keys", [pupil]);
  const quiz = await post("/api/tests/", {
    name: "Keyboard quiz", available_for: [group.id],
    questions: [
      { text: "Capital of Norway?", type: "text", number_in_test: 1, points: 1, body: { variants: [{ text: "Oslo", is_correct: true }] } },
      { text: "5 − 1?", type: "radio", number_in_test: 2, points: 1, body: { variants: [{ text: "4", is_correct: true }, { text: "3", is_correct: false }] } },
      { text: "Write add(a, b)", type: "code", number_in_test: 3, points: 1, body: { testing_code: "assert add(1, 2) == 3" } },
    ],
  }, token);
  await instrument(page);
  const problems = watchConsole(page, "keyboard");

  await page.goto(`/app/#/take/${quiz.public_uuid}`);
  const signInTitle = page.getByRole("heading", { name: "Sign in" });
  await expect(signInTitle).toBeFocused();

  await test.step("Skip to content moves focus to the main area and keeps the view", async () => {
    const skip = page.getByRole("link", { name: "Skip to content" });
    await tabTo(page, skip, { back: true });
    await page.keyboard.press("Enter");
    await expect(signInTitle).toBeFocused();
    await expect(page).toHaveURL(/#\/signin$/);
    await expect(page.getByRole("heading", { name: "Not found" })).toHaveCount(0);
  });

  await test.step("the header's focus ring is at least 3:1 on the dark header", async () => {
    const link = page.locator("#nav a").first();
    await tabTo(page, link, { back: true });
    const ratio = await link.evaluate((el) => {
      const rgb = (c) => c.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number);
      const lum = ([r, g, b]) => {
        const f = (v) => { const s = v / 255; return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; };
        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
      };
      const ring = lum(rgb(getComputedStyle(el).outlineColor));
      const header = lum(rgb(getComputedStyle(el.closest("header")).backgroundColor));
      const width = parseFloat(getComputedStyle(el).outlineWidth);
      return { ratio: (Math.max(ring, header) + 0.05) / (Math.min(ring, header) + 0.05), width };
    });
    expect(ratio.width).toBeGreaterThanOrEqual(2);
    expect(ratio.ratio).toBeGreaterThanOrEqual(3);
  });

  await test.step("signing in with the keyboard leads back to the test, its heading focused", async () => {
    await tabTo(page, page.getByLabel("Email"));
    await page.keyboard.type(pupil.email);
    await page.keyboard.press("Tab");
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press("Enter");
    await expect(page.getByRole("heading", { name: "Keyboard quiz" })).toBeFocused();
  });

  await test.step("Start the test: the heading takes focus", async () => {
    await tabTo(page, page.getByRole("button", { name: "Start the test" }));
    await page.keyboard.press("Enter");
    await expect(page.getByLabel("Answer to question 1")).toBeVisible();
    await expect(page.getByRole("heading", { name: "Keyboard quiz" })).toBeFocused();
  });

  await test.step("answers by keyboard; Saved is announced once per save, not per keystroke", async () => {
    await tabTo(page, page.getByLabel("Answer to question 1"));
    await page.evaluate(() => { window.__said = []; });
    await page.keyboard.type("Oslo");
    const q1 = page.locator("fieldset.question").nth(0);
    await expect(q1.locator(".save-state")).toHaveText("Saved");
    await expect.poll(() => page.evaluate(() => window.__said)).toEqual(["Saved"]);
    await expect(q1.locator(".save-state")).not.toHaveAttribute("aria-live");

    await page.keyboard.press("Tab");
    await expect(page.getByLabel("4", { exact: true })).toBeFocused();
    await page.keyboard.press("Space");
    await expect(page.locator("fieldset.question").nth(1).locator(".save-state")).toHaveText("Saved");
  });

  await test.step("the code editor: Tab indents, Esc then Tab leaves, and both are said", async () => {
    const code = page.getByLabel("Code for question 3");
    await tabTo(page, code);
    const hint = page.getByText("Tab indents. To leave the editor with the keyboard, press Esc, then Tab.");
    await expect(hint).toBeVisible();
    await expect(code).toHaveAccessibleDescription(/Tab indents\. To leave the editor with the keyboard, press Esc, then Tab\./);
    await page.evaluate(() => { window.__said = []; });
    await page.keyboard.type("def add(a, b):");
    await page.keyboard.press("Enter");
    await page.keyboard.press("Tab");
    await expect(code).toBeFocused();
    await page.keyboard.type("return a + b");
    await expect(code).toHaveValue("def add(a, b):\n    return a + b");
    await expect(page.locator("fieldset.question").nth(2).locator(".save-state")).toHaveText("Saved");
    // 27 keystrokes; "Saved" once per save that landed (a save follows a pause in typing).
    const said = await page.evaluate(() => window.__said);
    expect(said.length).toBeGreaterThanOrEqual(1);
    expect(said.length).toBeLessThanOrEqual(4);
    expect(new Set(said)).toEqual(new Set(["Saved"]));
    await page.keyboard.press("Escape");
    await page.keyboard.press("Tab");
    await expect(page.getByRole("button", { name: "Submit", exact: true })).toBeFocused();
  });

  await test.step("submitting leads to the result, its heading focused", async () => {
    await page.keyboard.press("Enter");
    await expect(page.getByRole("button", { name: "Yes, submit" })).toBeFocused();
    await page.keyboard.press("Enter");
    await expect(page.getByRole("heading", { name: "Result: Keyboard quiz" })).toBeFocused();
  });

  await test.step("Not found has its own title and focused heading", async () => {
    await page.goto("/app/#/nowhere");
    await expect(page.getByRole("heading", { name: "Not found" })).toBeFocused();
    await expect(page).toHaveTitle("Not found · TestIT");
  });
  expect(await page.evaluate(() => window.__pointer)).toBe(0);
  expect(problems).toEqual([]);
});

test("a new teacher's first hour, following the page's words: checklist, join link, a first completion", async ({ browser }) => {
  const tess = { first: "Tia", last: "Newcomer", email: `tia-${run}@first.test` };
  const pupil = { first: "Sol", last: "Joiner", email: `sol-${run}@first.test` };
  const school = `First Hour School ${run}`;
  const tc = await browser.newContext();
  const tp = await tc.newPage();
  await instrument(tp);
  const problems = watchConsole(tp, "teacher");

  await test.step("registering: the organization's name and the next steps", async () => {
    await register(tp, tess, { teacherOf: school });
    await expect(tp.getByRole("heading", { name: "Tests" })).toBeVisible();
    await expect(tp.locator("main")).toContainText(`Organization: ${school}`);
    const steps = tp.getByRole("region", { name: "Next steps" });
    await expect(steps).toContainText("0 of 5 done.");
    await steps.getByRole("link", { name: "Make a group for a class" }).click();
  });

  let joinLink;
  await test.step("a group and its join link", async () => {
    await expect(tp.getByRole("heading", { name: "Groups" })).toBeFocused();
    await tp.getByLabel("Group name").fill("Year 5");
    await tp.getByRole("button", { name: "Create group" }).click();
    const group = tp.getByRole("region", { name: "Year 5" });
    await group.getByRole("button", { name: "Make a join link for Year 5" }).click();
    await expect(group.locator(".join-code")).toHaveText(/^[A-Z2-9]{5}-[A-Z2-9]{5}$/);
    joinLink = await group.getByLabel("Join link for Year 5").inputValue();
    expect(joinLink).toMatch(/\/app\/#\/join\/[A-Z2-9]{5}-[A-Z2-9]{5}$/);
  });

  const sc = await browser.newContext({ viewport: { width: 360, height: 740 } });
  const sp = await sc.newPage();
  problems.push(...watchConsole(sp, "student"));
  await test.step("a student opens the link, registers and lands in the group in one step", async () => {
    await sp.goto(joinLink);
    await expect(sp.getByRole("heading", { name: "Join Year 5" })).toBeVisible();
    await expect(sp.locator("main")).toContainText(school);
    await sp.getByLabel("First name").fill(pupil.first);
    await sp.getByLabel("Last name").fill(pupil.last);
    await sp.getByLabel("Email").first().fill(pupil.email);
    await sp.getByLabel("Password").first().fill(PASSWORD);
    await sp.getByRole("button", { name: "Register and join" }).click();
    await expect(sp.getByRole("heading", { name: "My tests" })).toBeFocused();
    await expect(sp.locator("main").getByRole("status")).toHaveText(`You joined Year 5 at ${school}.`);
    await expect(sp.locator(".org-name")).toHaveText(`Organization: ${school} · Group: Year 5`);
  });

  await test.step("the checklist ticks the group and its students; writing a test", async () => {
    await tp.getByRole("link", { name: "Tests", exact: true }).click();
    const steps = tp.getByRole("region", { name: "Next steps" });
    await expect(steps).toContainText("2 of 5 done.");
    await steps.getByRole("link", { name: "Write a test" }).click();
    await expect(tp.getByRole("heading", { name: "New test" })).toBeFocused();
    // A refused save focuses the first error, which names its field.
    await tp.getByRole("button", { name: "Text answer" }).click();
    await tp.getByRole("button", { name: "Save test" }).click();
    const name = tp.getByLabel("Name", { exact: true });
    await expect(name).toBeFocused();
    await expect(name).toHaveAccessibleDescription("Name is empty: fill it in.");
    await name.fill("First quiz");
    // Leaving with unsaved changes asks first, in-app and with the browser's Back.
    let asked = 0;
    tp.once("dialog", (dialog) => { asked += 1; expect(dialog.message()).toContain("without saving"); dialog.dismiss(); });
    await tp.getByRole("link", { name: "Tests", exact: true }).click();
    await expect.poll(() => asked).toBe(1);
    await expect(tp).toHaveURL(/#\/tests\/new$/);
    await expect(name).toHaveValue("First quiz");
    tp.once("dialog", (dialog) => { asked += 1; dialog.dismiss(); });
    await tp.goBack();
    await expect.poll(() => asked).toBe(2);
    await expect(name).toHaveValue("First quiz");
    await expect(tp).toHaveURL(/#\/tests\/new$/);

    await tp.getByLabel("Year 5").check();
    const q = tp.locator(".question-editor").nth(0);
    await q.getByLabel("Question", { exact: true }).fill("Capital of Japan?");
    await q.getByLabel("Accepted answer 1").fill("Tokyo");
    await tp.getByRole("button", { name: "Save test" }).click();
    await expect(tp.getByRole("heading", { name: "Edit: First quiz" })).toBeVisible();
    // Saved: leaving asks nothing.
    await tp.getByRole("link", { name: "Tests", exact: true }).click();
    await expect(steps).toContainText("4 of 5 done.");
    await steps.getByRole("link", { name: "Share the test's link with the students, and watch them take it live" }).click();
  });

  await test.step("watching live: columns headed with the question, a line said per student", async () => {
    await expect(tp.locator(".connection")).toHaveText("Live");
    await expect(tp.getByRole("columnheader", { name: /^Q1\s*: Capital of Japan\?$/ })).toBeVisible();
    // The student's home lists the test once it is open to them.
    await sp.reload();
    await sp.getByRole("region", { name: "Tests open to you" }).getByRole("link", { name: "First quiz" }).click();
    await sp.getByRole("button", { name: "Start the test" }).click();
    await sp.getByLabel("Answer to question 1").fill("tokyo");
    await expect(sp.locator(".save-state")).toHaveText("Saved");
    await sp.getByRole("button", { name: "Submit", exact: true }).click();
    await sp.getByRole("button", { name: "Yes, submit" }).click();
    await expect(sp.getByText("Score: 1 / 1")).toBeVisible();
    const row = tp.getByRole("row", { name: new RegExp(pupil.first) });
    await expect(row.locator("td.status")).toHaveText("graded");
    await expect.poll(() => tp.evaluate(() => window.__said.join(" | "))).toContain(`${pupil.first} ${pupil.last} submitted: 1 of 1`);
  });

  await test.step("all five steps ticked, and the list can be hidden", async () => {
    await tp.getByRole("link", { name: "Tests", exact: true }).click();
    const steps = tp.getByRole("region", { name: "All set" });
    await expect(steps).toContainText("5 of 5 done.");
    await steps.getByRole("button", { name: "Hide these steps" }).click();
    await expect(tp.getByRole("heading", { name: "Tests" })).toBeFocused();
    await tp.reload();
    await expect(tp.getByRole("link", { name: "New test" })).toBeVisible();
    await expect(tp.locator(".checklist")).toHaveCount(0);
  });
  expect(problems).toEqual([]);
  await tc.close();
  await sc.close();
});

test("students join by link or code; a turned-off code is refused in words", async ({ browser, request }) => {
  const { post, login, token, group } = await school(request, "join");
  const code = (await post(`/api/groups/${group.id}/join_code/`, undefined, token)).code;
  const known = { email: `kai-${run}@join.test` };
  await post("/api/users/", { email: known.email, password: PASSWORD, first_name: "Kai", last_name: "Known", is_teacher: false });

  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = watchConsole(page, "joiner");
  await test.step("a registered student signs in on the link's page and joins", async () => {
    await page.goto(`/app/#/join/${code}`);
    await expect(page.getByRole("heading", { name: "Join Class join" })).toBeVisible();
    await expect(page.locator("main")).toContainText("Oona Owner join");
    const form = page.getByRole("form", { name: "Have an account? Sign in" });
    await form.getByLabel("Email").fill(known.email);
    await form.getByLabel("Password").fill(PASSWORD);
    await form.getByRole("button", { name: "Sign in and join" }).click();
    await expect(page.getByRole("heading", { name: "My tests" })).toBeFocused();
    await expect(page.locator(".org-name")).toContainText("Group: Class join");
  });

  await test.step("a code typed on the home page opens the same page", async () => {
    const other = await post("/api/groups/", { name: "Chess club", description: "", members: [] }, token);
    const second = (await post(`/api/groups/${other.id}/join_code/`, undefined, token)).code;
    await page.getByLabel("Join a group with a code").fill(second.toLowerCase());
    await page.getByRole("button", { name: "Join", exact: true }).click();
    await page.getByRole("button", { name: "Join Chess club" }).click();
    await expect(page.locator(".org-name")).toContainText("Groups: Class join, Chess club");
  });

  await test.step("a turned-off code: a clear refusal, focused", async () => {
    const off = await request.delete(`/api/groups/${group.id}/join_code/`, { headers: { Authorization: `Bearer ${await login(`owner-${run}@join.test`)}` } });
    expect(off.status()).toBe(204);
    const visitor = await browser.newPage();
    await visitor.goto(`/app/#/join/${code}`);
    await expect(visitor.getByRole("heading", { name: "This join link does not work" })).toBeFocused();
    await expect(visitor.getByRole("alert")).toContainText("turned off or replaced");
    await visitor.close();
  });
  expect(problems).toEqual([]);
  await context.close();
});

test("no axe violation (WCAG 2.0–2.2 A/AA, best practice) on any view at 1280 and 360 px", async ({ browser, request }) => {
  const pupil = { first: "Ava", last: "Axe", email: `ava-${run}@axe.test` };
  const { post, token, group, owner, org } = await school(request, "axe", [pupil]);
  // A teacher waiting for confirmation, so that the owner's pages show the request.
  await post("/api/users/", { email: `wait-${run}@axe.test`, password: PASSWORD, first_name: "Wes", last_name: "Waiting", is_teacher: true, organization_id: org.id });
  const quiz = await post("/api/tests/", {
    name: "Axe quiz", time_limit_seconds: 600, available_for: [group.id],
    questions: [
      { text: "Capital of Chile?", type: "text", number_in_test: 1, points: 1, body: { variants: [{ text: "Santiago", is_correct: true }] } },
      { text: "1 + 1?", type: "check", number_in_test: 2, points: 1, body: { variants: [{ text: "2", is_correct: true }, { text: "3", is_correct: false }] } },
      { text: "Write f()", type: "code", number_in_test: 3, points: 1, body: { testing_code: "assert f() == 1" } },
    ],
  }, token);
  const code = (await post(`/api/groups/${group.id}/join_code/`, undefined, token)).code;
  // A completion for the result page: a timed test's REST submission belongs to the
  // attempt that showing the test to the student starts.
  const pupilToken = await restClient(request).login(pupil.email);
  const shown = await request.get(`/api/tests/p/${quiz.public_uuid}/`, { headers: { Authorization: `Bearer ${pupilToken}` } });
  expect(shown.ok(), await shown.text()).toBeTruthy();
  const done = await post("/api/completions/", { test: quiz.public_uuid, answers: [] }, pupilToken);

  for (const width of [1280, 360]) {
    const context = await browser.newContext({ viewport: { width, height: 800 } });
    const page = await context.newPage();
    const check = async (path, ready, where) => {
      await page.goto(path);
      await expect(ready(page)).toBeVisible();
      await expectNoViolations(page, `${where} at ${width} px`);
      if (width === 360) await expectNoHorizontalScroll(page);
    };
    const title = (name) => (p) => p.getByRole("heading", { name, exact: true });
    await check("/app/", title("TestIT: online tests for schools"), "the landing page");
    await check("/app/#/signin", title("Sign in"), "sign-in");
    await check("/app/#/register", title("Register"), "registration");
    await check("/app/#/forgot", title("Forgot your password?"), "forgotten password");
    await check("/app/#/nowhere", title("Not found"), "not found");
    await check(`/app/#/join/${code}`, title("Join Class axe"), "a join link");
    await check("/app/#/join/ABCDE-FGHJK", title("This join link does not work"), "a dead join link");
    await signInAs(page, owner);
    await check("/app/#/tests", (p) => p.locator(".checklist"), "the tests page with its steps");
    await check("/app/#/groups", (p) => p.locator(".join-code"), "the groups page");
    await check("/app/#/tests/new", title("New test"), "a new test");
    await check(`/app/#/tests/${quiz.id}`, (p) => p.getByLabel("Testing code (asserts, or test_* functions)"), "the test editor");
    await check(`/app/#/tests/${quiz.id}/watch`, (p) => p.locator("td.status").first(), "the live view");
    await page.getByRole("button", { name: "Sign out" }).click();
    await signInAs(page, pupil.email);
    await check("/app/#/", (p) => p.getByRole("region", { name: "Tests open to you" }).getByRole("link"), "the student's home");
    await check(`/app/#/take/${quiz.public_uuid}`, (p) => p.getByRole("button", { name: "Start the test" }), "a test's start");
    await page.getByRole("button", { name: "Start the test" }).click();
    await expect(page.getByLabel("Code for question 3")).toBeVisible();
    await expectNoViolations(page, `a test being taken at ${width} px`);
    await check(`/app/#/result/${done.id}`, (p) => p.locator("p.score"), "a result");
    await page.getByRole("button", { name: "Sign out" }).click();
    await signInAs(page, `wait-${run}@axe.test`);
    await expect(page.locator(".pending-note")).toBeVisible();
    await expectNoViolations(page, `a teacher waiting for confirmation at ${width} px`);
    await context.close();
  }
});

// The original web client is deployed on an origin of its own. scripts/test-web starts the
// server with TESTIT_CORS_ORIGINS naming CLIENT_ORIGIN; a page there (served by Playwright,
// never fetched) calls the API as that client does: JSON bodies and an Authorization header,
// so Chromium sends real preflights. A page of an origin not on the list reads nothing.
const CLIENT_ORIGIN = "http://localhost:8999";
const OTHER_ORIGIN = "http://localhost:8998";

test("a client on its own origin signs in and reads across origins; another origin cannot", async ({ page, request, baseURL }) => {
  const email = `cors-${run}@school.test`;
  const created = await request.post("/api/users/", {
    data: { email, password: PASSWORD, first_name: "Cora", last_name: "Client", is_teacher: true },
  });
  expect(created.status()).toBe(201);
  for (const origin of [CLIENT_ORIGIN, OTHER_ORIGIN]) {
    await page.route(`${origin}/**`, (route) =>
      route.fulfill({ contentType: "text/html", body: "<!doctype html><title>client</title><p>client</p>" }));
  }
  const callFrom = async (origin) => {
    await page.goto(`${origin}/`);
    return page.evaluate(async ({ base, email, password }) => {
      try {
        const signIn = await fetch(`${base}/api/users/token/obtain/`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ email, password }),
        });
        const { access } = await signIn.json();
        const me = await fetch(`${base}/api/users/me`, { headers: { Authorization: `Bearer ${access}` } });
        return { signIn: signIn.status, me: me.status, email: (await me.json()).email };
      } catch (error) {
        return { blocked: String(error) };
      }
    }, { base: baseURL, email, password: PASSWORD });
  };
  expect(await callFrom(CLIENT_ORIGIN)).toEqual({ signIn: 200, me: 200, email });
  expect((await callFrom(OTHER_ORIGIN)).blocked).toContain("Failed to fetch");
});
