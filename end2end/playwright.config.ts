import { defineConfig } from "@playwright/test";

// Runs against a vmshift server that the caller started (cargo leptos end-to-end starts
// one with a throw-away database). Uses Debian's Chromium: no browser is downloaded.
export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  globalSetup: "./global-setup.ts",
  use: {
    baseURL: process.env.VMSHIFT_URL ?? "http://127.0.0.1:3000",
    // Signed in as the admin (see global-setup.ts); accounts tests start their own contexts.
    storageState: "test-results/admin-state.json",
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
      ],
    },
  },
});
