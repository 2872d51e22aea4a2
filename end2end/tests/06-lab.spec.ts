import { test, expect, Page } from "@playwright/test";
import { spawn, ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { open, pickVm } from "./helpers";

// A second vmshift, started here with the QEMU driver: the Lab cluster's VMs are real QEMU
// guests on this machine. Skipped (saying why) where QEMU or the lab guest is missing.
const LAB_DIR = resolve("..", "target", "lab");
const BINARY = resolve("..", "target", "debug", "vmshift");
const PORT = 3101;
const BASE = `http://127.0.0.1:${PORT}`;
const missing = [
  ["/usr/bin/qemu-system-x86_64", "QEMU (scripts/install-qemu.sh)"],
  [join(LAB_DIR, "initramfs.img"), "the lab guest (scripts/lab-guest.sh)"],
  [BINARY, "the server binary"],
].find(([path]) => !existsSync(path));

let server: ChildProcess | undefined;
let data = "";

test.beforeAll(async () => {
  if (missing) return;
  data = mkdtempSync(join(tmpdir(), "vmshift-lab-e2e-"));
  server = spawn(BINARY, [], {
    // The repository's root: the site (target/site) is found from there.
    cwd: resolve(".."),
    env: {
      ...process.env,
      VMSHIFT_BIND: `127.0.0.1:${PORT}`,
      VMSHIFT_DATABASE_URL: `sqlite://${join(data, "vmshift.db")}`,
      VMSHIFT_DRIVER: "qemu",
      VMSHIFT_SPEED: "1",
      VMSHIFT_LAB_DIR: LAB_DIR,
      VMSHIFT_LAB_DATA: join(data, "lab"),
    },
    stdio: "ignore",
  });
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      if ((await fetch(`${BASE}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error("the QEMU-driver server did not start");
    await new Promise((r) => setTimeout(r, 250));
  }
});

test.afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server!.once("exit", r));
    server.kill("SIGTERM");
    await exited;
  }
  if (data) rmSync(data, { recursive: true, force: true });
});

async function signIn(page: Page) {
  await page.goto(`${BASE}/signin`);
  await page.getByTestId("signin-username").fill("admin");
  await page.getByTestId("signin-password").fill(process.env.VMSHIFT_ADMIN_PASSWORD ?? "");
  await page.getByTestId("signin-submit").click();
  await expect(page.getByTestId("current-user")).toContainText("admin");
}

async function heartbeat(page: Page, vm: string) {
  return Number(await page.getByTestId(`vm-real-${vm}`).getAttribute("data-heartbeat"));
}

test.describe("real lab guests (QEMU driver)", () => {
  test.use({ storageState: { cookies: [], origins: [] } });

  test("migrate a real lab VM from the wizard and watch its heartbeat move hosts", async ({ page }) => {
    test.skip(!!missing, `needs ${missing?.[1]}`);
    test.setTimeout(180_000);
    await signIn(page);
    await open(page, `${BASE}/`);
    const onHost = (host: string) =>
      page.getByTestId(`host-${host}`).getByTestId("vm-real-lab-web");
    // lab-web is a real guest, beating on lab-esx-01; the simulated VMs are not marked.
    await expect(onHost("lab-esx-01")).toContainText("♥", { timeout: 60_000 });
    await expect(page.getByTestId("vm-real-web-01")).toHaveCount(0);
    const before = await heartbeat(page, "lab-web");

    await open(page, `${BASE}/migrate`);
    await pickVm(page, "lab-web");
    await page.getByTestId("wizard-kind-vmotion").click();
    await page.getByTestId("target-host-lab-esx-02").click();
    await expect(page.getByTestId("check-results")).toHaveAttribute("data-allowed", "true");
    await page.getByTestId("wizard-next").click();
    await expect(page.getByTestId("wizard-prediction")).toContainText("Predicted");
    // A real guest is predicted with the lab's QEMU figures: a stun of tens of ms, not the
    // hundreds vSphere's figures give at this size.
    await expect(page.getByTestId("wizard-platform")).toContainText("figures of QEMU on this machine");
    await expect(page.getByTestId("wizard-prediction")).toContainText(/, \d{1,2} ms downtime/);
    await page.getByTestId("wizard-start").click();
    await expect(page).toHaveURL(/\/tasks\/[0-9a-f-]{36}$/);
    await expect(page.getByTestId("migration-detail")).toContainText("lab-web");
    await expect(page.getByTestId("detail-phase")).toHaveClass(/phase-completed/, {
      timeout: 120_000,
    });
    // The measured figures next to the simulated model's prediction for the same move.
    await expect(page.getByTestId("detail-actual")).toHaveAttribute("data-real", "true");
    await expect(page.getByTestId("detail-figures")).toContainText("Measured (QEMU)");
    await expect(page.getByTestId("detail-predicted")).toContainText("downtime");

    // On the map: lab-web under lab-esx-02, its heartbeat going on there.
    await open(page, `${BASE}/`);
    await expect(onHost("lab-esx-02")).toBeVisible();
    await expect(onHost("lab-esx-01")).toHaveCount(0);
    // The guest's counter goes on: beats after the migration come from lab-esx-02's QEMU.
    await expect
      .poll(() => heartbeat(page, "lab-web"), { timeout: 15_000 })
      .toBeGreaterThan(before);
    const after = await heartbeat(page, "lab-web");
    await expect
      .poll(() => heartbeat(page, "lab-web"), { timeout: 15_000 })
      .toBeGreaterThan(after);
  });
});
