// Playwright drives Debian's chromium (never a downloaded browser) against a server that
// scripts/test-web starts on a free port: TESTIT_URL.
import { defineConfig } from "@playwright/test";

export default defineConfig({
  testDir: ".",
  testMatch: "*.spec.js",
  // One worker: the machine has two cores and the server needs one.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  // Generous bounds for a busy two-core machine (a run takes about half a minute); every
  // wait ends as soon as the state it waits for is visible.
  timeout: 120_000,
  expect: { timeout: 15_000 },
  reporter: [["list"]],
  use: {
    baseURL: process.env.TESTIT_URL || "http://127.0.0.1:8000",
    headless: true,
    launchOptions: {
      executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
      // The flags the issue asks for (Playwright adds --headless and a fresh user data dir
      // of its own for every launch).
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        // The CORS journey serves "another origin's" page through Playwright's routing, which
        // Chromium counts as a public address; its local network access checks would then
        // refuse any call to the server on loopback before CORS is even asked (a deployed
        // client and server are both public). The app itself is same-origin.
        "--disable-features=LocalNetworkAccessChecks",
      ],
    },
    trace: "off",
  },
});
