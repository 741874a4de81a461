// Screenshots of the app's main pages for the README (docs/screenshots/*.png). Not a test of
// behaviour: it runs only when asked, `SCREENSHOTS=1 scripts/test-web screenshots`, and
// overwrites the PNGs. The data is seeded through the REST API; every wait is on visible
// state, so each picture shows the page settled.
import { fileURLToPath } from "node:url";
import { expect, test } from "@playwright/test";

const PASSWORD = "correct horse battery";
const run = Date.now().toString(36);
const OUT = fileURLToPath(new URL("../../docs/screenshots/", import.meta.url));
// Small enough to keep the repository light, wide enough for the live table.
const DESKTOP = { width: 1024, height: 640 };
const PHONE = { width: 390, height: 760 };

test.skip(!process.env.SCREENSHOTS, "screenshots are taken only with SCREENSHOTS=1");

async function shot(page, name) {
  // The caret and focus ring blink and move: leave them out so the pictures are stable.
  await page.screenshot({ path: `${OUT}${name}.png`, animations: "disabled", caret: "hide" });
}

test("screenshots of the main pages", async ({ browser, request }) => {
  test.setTimeout(240_000);
  await expect.poll(async () => (await (await request.get("/api/languages/")).json())[0].status, { timeout: 110_000 }).toBe("ready");
  const post = async (path, data, token) => {
    const response = await request.post(path, { data, headers: token ? { Authorization: `Bearer ${token}` } : {} });
    expect(response.ok(), `${path}: ${await response.text()}`).toBeTruthy();
    return response.json();
  };
  const login = async (email) => (await post("/api/users/token/obtain/", { email, password: PASSWORD })).access;
  const owner = `grace-${run}@school.test`;
  await post("/api/users/", { email: owner, password: PASSWORD, first_name: "Grace", last_name: "Hopper", is_teacher: true });
  const org = await post("/api/organizations/", { name: `Riverside School ${run}` }, await login(owner));
  const token = await login(owner);
  const names = [["Alan", "Turing"], ["Ada", "Lovelace"], ["Edsger", "Dijkstra"], ["Barbara", "Liskov"]];
  const students = [];
  for (const [first, last] of names) {
    const email = `${first.toLowerCase()}-${run}@school.test`;
    const user = await post("/api/users/", { email, password: PASSWORD, first_name: first, last_name: last, is_teacher: false, organization_id: org.id });
    students.push({ ...user, email });
  }
  const group = await post("/api/groups/", { name: "Year 10 Computing", description: "Mondays and Thursdays", members: students.map((s) => s.id) }, token);
  await post("/api/groups/", { name: "Year 11 Maths", description: "", members: [students[0].id] }, token);
  const quiz = await post("/api/tests/", {
    name: "Python basics", time_limit_seconds: 1800, max_attempts: 2, available_for: [group.id],
    questions: [
      { text: "Which keyword defines a function?", type: "radio", number_in_test: 1, points: 1, body: { variants: [{ text: "def", is_correct: true }, { text: "fun", is_correct: false }, { text: "lambda", is_correct: false }] } },
      { text: "Which of these are immutable?", type: "check", number_in_test: 2, points: 2, body: { strict_score: false, variants: [{ text: "tuple", is_correct: true }, { text: "list", is_correct: false }, { text: "str", is_correct: true }] } },
      { text: "What does len(\"abc\") return?", type: "text", number_in_test: 3, points: 1, body: { variants: [{ text: "3", is_correct: true }] } },
      { text: "Write add(a, b), returning the sum of a and b.", type: "code", number_in_test: 4, points: 3, body: { strict_score: true, testing_code: "assert add(1, 2) == 3\nassert add(-1, 1) == 0" } },
    ],
  }, token);
  await post("/api/tests/", {
    name: "Loops and lists", available_for: [group.id],
    questions: [{ text: "How many times does range(3) loop?", type: "text", number_in_test: 1, points: 1, body: { variants: [{ text: "3", is_correct: true }] } }],
  }, token);
  const q = quiz.questions;
  const variant = (i, text) => q[i].body.variants.find((v) => v.text === text).id;
  // Barbara has submitted already (her code answer is graded by the sandbox).
  await post("/api/completions/", {
    test: quiz.public_uuid,
    answers: [
      { question: q[0].id, body: { picked_variant: { id: variant(0, "def") } } },
      { question: q[1].id, body: { picked_variants: [{ id: variant(1, "tuple") }] } },
      { question: q[2].id, body: { picked_variant: { text: "3" } } },
      { question: q[3].id, body: { code: "def add(a, b):\n    return a + b\n" } },
    ],
  }, await login(students[3].email));

  const signIn = async (page, email) => {
    await page.goto("/app/#/signin");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
  };

  const code = (await post(`/api/groups/${group.id}/join_code/`, undefined, token)).code;
  // A teacher who has just registered, for the first-use picture.
  const newcomer = `noor-${run}@school.test`;
  await post("/api/users/", { email: newcomer, password: PASSWORD, first_name: "Noor", last_name: "Newcomer", is_teacher: true });
  await post("/api/organizations/", { name: "Hillside Primary" }, await login(newcomer));

  const visitor = await browser.newContext({ viewport: DESKTOP });
  const vp = await visitor.newPage();
  await vp.goto("/app/");
  await expect(vp.getByRole("heading", { name: "TestIT: online tests for schools" })).toBeVisible();
  await shot(vp, "landing");
  await vp.goto("/app/#/signin");
  await expect(vp.getByRole("heading", { name: "Sign in" })).toBeVisible();
  await shot(vp, "sign-in");
  await vp.goto("/app/#/register");
  await vp.getByLabel("a teacher", { exact: true }).check();
  await expect(vp.getByLabel("Organization name")).toBeVisible();
  await shot(vp, "register");
  await signIn(vp, newcomer);
  await expect(vp.getByRole("region", { name: "Next steps" })).toContainText("0 of 5 done.");
  await shot(vp, "first-use");
  await visitor.close();

  const joiner = await browser.newContext({ viewport: PHONE });
  const jp = await joiner.newPage();
  await jp.goto(`/app/#/join/${code}`);
  await expect(jp.getByRole("heading", { name: "Join Year 10 Computing" })).toBeVisible();
  await shot(jp, "join-link");
  await joiner.close();

  const teacher = await browser.newContext({ viewport: DESKTOP });
  const tp = await teacher.newPage();
  await signIn(tp, owner);
  await expect(tp.getByRole("link", { name: "Edit Python basics" })).toBeVisible();
  await shot(tp, "teacher-tests");
  await tp.getByRole("link", { name: "Groups" }).click();
  await expect(tp.getByRole("region", { name: "Year 10 Computing" })).toContainText("Barbara");
  await expect(tp.getByRole("region", { name: "Year 10 Computing" }).locator(".join-code")).toHaveText(code);
  await shot(tp, "teacher-groups");
  await tp.goto(`/app/#/tests/${quiz.id}`);
  const testing = tp.getByLabel("Testing code (asserts, or test_* functions)");
  await expect(testing).toHaveValue(/assert add/);
  await tp.locator(".question-editor").nth(3).evaluate((el) => el.scrollIntoView({ block: "start" }));
  await shot(tp, "test-editor-code");

  // Alan takes the test on a phone while the teacher watches.
  const phone = await browser.newContext({ viewport: PHONE });
  const sp = await phone.newPage();
  await signIn(sp, students[0].email);
  await expect(sp.getByRole("region", { name: "Tests open to you" })).toContainText("Python basics");
  await shot(sp, "student-home");
  await sp.getByRole("link", { name: "Python basics" }).click();
  await sp.getByRole("button", { name: "Start the test" }).click();
  await sp.getByLabel("def", { exact: true }).check();
  await expect(sp.locator("fieldset.question").nth(0).locator(".save-state")).toHaveText("Saved");
  await sp.getByLabel("tuple", { exact: true }).check();
  await sp.getByLabel("str", { exact: true }).check();
  await expect(sp.locator("fieldset.question").nth(1).locator(".save-state")).toHaveText("Saved");
  await shot(sp, "student-taking");

  await tp.goto(`/app/#/tests/${quiz.id}/watch`);
  await expect(tp.locator(".connection")).toHaveText("Live");
  await expect(tp.getByRole("row", { name: /Alan/ }).locator("td.answered")).toHaveText("2/4");
  await expect(tp.getByRole("row", { name: /Barbara/ }).locator("td.status")).toHaveText("graded");
  await shot(tp, "live-view");

  await sp.getByLabel("Answer to question 3").fill("3");
  await sp.getByLabel("Code for question 4").fill("def add(a, b):\n    return a + b\n");
  await expect(sp.locator("fieldset.question").nth(3).locator(".save-state")).toHaveText("Saved");
  await sp.getByRole("button", { name: "Submit", exact: true }).click();
  await sp.getByRole("button", { name: "Yes, submit" }).click();
  await expect(sp.getByText("Score: 7 / 7")).toBeVisible({ timeout: 30_000 });
  await shot(sp, "student-result");
  await phone.close();
  await teacher.close();
});
