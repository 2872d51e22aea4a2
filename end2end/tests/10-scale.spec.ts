import { test, expect, Browser, BrowserContext, Page } from "@playwright/test";
import { spawn, spawnSync, ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

// vCenter's maximum in the browser (docs/DESIGN.md#the-map-at-scale): a second vmshift of its
// own, loaded with a generated inventory of 50 clusters, 2,500 hosts and 45,000 VMs
// (`gen-inventory`, built by scripts/test.sh next to the server; generated here, not
// committed), imported in one request.

const ROOT = resolve(__dirname, "../..");
const SERVER = join(ROOT, "target/debug/vmshift");
const GENERATOR = join(ROOT, "target/debug/gen-inventory");
const PORT = 3102;
const BASE = `http://127.0.0.1:${PORT}`;
const PASSWORD = "scale-admin-password";

test.describe.configure({ mode: "serial" });

let server: ChildProcess | undefined;
let dir = "";
let context: BrowserContext;
const ids: Record<string, string> = {};

async function healthy() {
  for (let i = 0; i < 240; i++) {
    try {
      if ((await fetch(`${BASE}/healthz`)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error("the scale server did not start");
}

test.beforeAll(async ({ browser }: { browser: Browser }) => {
  test.setTimeout(300_000);
  test.skip(
    !existsSync(SERVER) || !existsSync(GENERATOR),
    "the debug server or gen-inventory is not built (scripts/test.sh builds both)",
  );
  dir = mkdtempSync(join(tmpdir(), "vmshift-scale-"));
  server = spawn(SERVER, [], {
    cwd: ROOT,
    stdio: "ignore",
    env: {
      ...process.env,
      VMSHIFT_DATABASE_URL: `sqlite://${dir}/scale.db`,
      VMSHIFT_BIND: `127.0.0.1:${PORT}`,
      VMSHIFT_DEMO: "false",
      VMSHIFT_ADMIN_PASSWORD: PASSWORD,
      VMSHIFT_SECRET_KEY: "scale-secret-key",
      VMSHIFT_SPEED: "50",
      VMSHIFT_TICK_MS: "100",
      VMSHIFT_LOG: "warn",
      LEPTOS_OUTPUT_NAME: "vmshift",
      LEPTOS_SITE_ROOT: "target/site",
      LEPTOS_SITE_PKG_DIR: "pkg",
    },
  });
  await healthy();
  context = await browser.newContext({ baseURL: BASE, storageState: undefined });
  const signin = await context.request.post("/api/v1/session", {
    data: { username: "admin", password: PASSWORD },
  });
  expect(signin.ok()).toBeTruthy();
  const generated = spawnSync(GENERATOR, ["--clusters", "50", "--hosts", "50", "--vms", "18"], {
    maxBuffer: 256 << 20,
  });
  expect(generated.status).toBe(0);
  const imported = await context.request.post("/api/v1/inventory", {
    headers: { "content-type": "application/json" },
    data: generated.stdout,
    timeout: 240_000,
  });
  expect(imported.status(), await imported.text()).toBe(200);
  for (const kind of ["clusters", "hosts", "vms"]) {
    for (const o of await (await context.request.get(`/api/v1/${kind}`)).json()) ids[o.name] = o.id;
  }
});

test.afterAll(async () => {
  await context?.close();
  server?.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// Errors the pages logged (a panic in the browser is one): none is expected.
let errors: string[] = [];
test.afterEach(() => {
  const seen = errors;
  errors = [];
  expect(seen).toEqual([]);
});

async function openPage(path: string): Promise<Page> {
  const page = await context.newPage();
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  await page.goto(path);
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await expect(page.locator("body")).toHaveAttribute("data-ready", new URL(path, BASE).pathname);
  await expect(page.getByTestId("live-status")).toHaveAttribute("data-state", "live");
  return page;
}

test("the overview shows every cluster with its totals, in well under 1 MB of HTML", async () => {
  const html = await (await context.request.get("/")).text();
  expect(html.length).toBeLessThan(1_000_000);
  const page = await openPage("/");
  await expect(page.getByTestId("map-summary")).toHaveText("50 clusters · 2,500 hosts · 45,000 VMs");
  await expect(page.locator(".tile")).toHaveCount(50);
  const tile = page.getByTestId("tile-cluster-017");
  await expect(tile.getByTestId("tile-hosts")).toHaveText("50");
  await expect(tile.getByTestId("tile-vms")).toHaveText("900 (900 on)");
  // 2 vCPUs × 18 VMs on 64 cores, 8 GiB × 18 of 1 TiB, per host.
  await expect(tile.getByTestId("tile-cpu")).toHaveText("56%");
  await expect(tile.getByTestId("tile-memory")).toHaveText("14%");
  await expect(tile.locator(".cell")).toHaveCount(50);
  // No cluster is open: no host card, no VM.
  await expect(page.locator(".host")).toHaveCount(0);
  await page.close();
});

test("opening a cluster shows its hosts and their VMs, drawing only the columns in view", async () => {
  const page = await openPage("/");
  await page.getByTestId("open-cluster-012").click();
  const cluster = page.getByTestId("cluster-cluster-012");
  await expect(cluster).toBeVisible();
  await expect(page.getByTestId("tile-cluster-012")).toHaveClass(/open/);
  await expect(page.getByTestId("vm-vm-011-000-000")).toHaveCount(0);
  // Every host keeps its column; the cards (and their VMs) are drawn for those in view.
  await expect(cluster).toHaveAttribute("data-windowed", "true");
  await expect(cluster.locator(".host, .host-slot")).toHaveCount(50);
  await expect(page.getByTestId("host-esx-012-000").locator(".vm")).toHaveCount(18);
  await expect(page.getByTestId("vm-vm-012-000-017")).toBeVisible();
  const drawn = await cluster.locator(".host").count();
  expect(drawn).toBeGreaterThanOrEqual(4);
  expect(drawn).toBeLessThan(20);
  await expect(page.getByTestId("host-esx-012-049")).toHaveCount(0);
  await expect(page.getByTestId("slot-esx-012-049")).toHaveCount(1);
  // Scrolled to its end: the last hosts are drawn, the first are slots again.
  await cluster.evaluate((el) => (el.scrollLeft = el.scrollWidth));
  await expect(page.getByTestId("host-esx-012-049").locator(".vm")).toHaveCount(18);
  await expect(page.getByTestId("host-esx-012-000")).toHaveCount(0);
  expect(await cluster.locator(".host").count()).toBeLessThan(20);
  // A VM far to the right, asked for by its id (as search does): drawn, marked, in view.
  await page.goto(`/?open=${ids["cluster-012"]}&highlight=${ids["vm-012-041-005"]}`);
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  const far = page.getByTestId("vm-vm-012-041-005");
  await expect(far).toHaveAttribute("data-highlighted", "true");
  await expect(far).toBeInViewport();
  await expect(page.getByTestId("host-esx-012-000")).toHaveCount(0);
  await page.close();
});

test("searching a VM's name finds it, shows it on the map and opens the wizard for it", async () => {
  const page = await openPage("/");
  await page.getByTestId("search").fill("vm-031-007-00");
  const hit = page.getByTestId("search-hit-vm-031-007-005");
  await expect(hit).toContainText("esx-031-007 · cluster-031");
  await expect(page.getByTestId("search-results").locator("[role=option]")).toHaveCount(10);
  // Enter on the highlighted hit: its cluster opens with the VM marked.
  await page.getByTestId("search").press("ArrowDown");
  await page.getByTestId("search").press("Enter");
  await expect(page.getByTestId("vm-vm-031-007-000")).toHaveAttribute("data-highlighted", "true");
  await expect(page.getByTestId("cluster-cluster-031")).toBeVisible();
  // Its "Migrate…" opens the wizard for it.
  await page.getByTestId("search").fill("vm-031-007-005");
  await page.getByTestId("search-migrate-vm-031-007-005").click();
  await expect(page.getByTestId("wizard-vm")).toHaveValue("vm-031-007-005");
  await expect(page.getByTestId("wizard-vm-info")).toContainText("Now on esx-031-007");
  await page.close();
});

test("the wizard's VM picker filters as you type and its targets show the best first", async () => {
  const page = await openPage("/migrate");
  const picker = page.getByTestId("wizard-vm");
  await picker.fill("vm-049-049-01");
  const options = page.getByTestId("wizard-vm-results").locator("[role=option]");
  await expect(options).toHaveCount(8);
  await picker.fill("vm-049-049-017");
  await expect(options).toHaveCount(1);
  await picker.press("Enter");
  await expect(page.getByTestId("wizard-vm-info")).toContainText("Now on esx-049-049");
  await page.getByTestId("wizard-kind-vmotion").click();
  await expect(page.getByTestId("targets-host").locator("li")).toHaveCount(12);
  await page.getByTestId("targets-host-more").click();
  await expect(page.getByTestId("targets-host").locator("li")).toHaveCount(50);
  await page.close();
});

test("a migration started through the API shows on the host grid and in the open cluster, live", async () => {
  const page = await openPage(`/?open=${ids["cluster-005"]}`);
  await expect(page.getByTestId("cluster-cluster-005")).toBeVisible();
  const tile = page.getByTestId("tile-cluster-005");
  await expect(tile.getByTestId("tile-migrations")).toHaveText("0");
  const moves = [
    { vm: "vm-005-003-000", host: "esx-005-004" }, // in the open cluster
    { vm: "vm-030-000-000", host: "esx-030-001" }, // in a closed one
  ];
  const started: string[] = [];
  for (const { vm, host } of moves) {
    const res = await context.request.post("/api/v1/migrations", {
      data: {
        vm_id: ids[vm],
        kind: "vmotion",
        target_host_id: ids[host],
        options: { bandwidth_cap_mbps: 10 },
      },
    });
    expect(res.status(), await res.text()).toBe(201);
    started.push((await res.json()).id);
  }
  await expect(page.getByTestId("cell-esx-005-003")).toHaveAttribute("data-moving", "out");
  await expect(page.getByTestId("cell-esx-005-004")).toHaveAttribute("data-moving", "in");
  await expect(tile.getByTestId("tile-migrations")).toHaveText("1");
  await expect(page.getByTestId("cell-esx-030-000")).toHaveAttribute("data-moving", "out");
  await expect(page.getByTestId("tile-cluster-030").getByTestId("tile-migrations")).toHaveText("1");
  // The open cluster follows its VM's progress.
  await expect(page.getByTestId("vm-moving-vm-005-003-000")).toContainText("→ esx-005-004");
  for (const id of started) {
    const res = await context.request.post(`/api/v1/migrations/${id}/cancel`);
    expect(res.ok()).toBeTruthy();
  }
  await expect(page.getByTestId("cell-esx-005-003")).not.toHaveAttribute("data-moving", /./);
  await expect(tile.getByTestId("tile-migrations")).toHaveText("0");
  await page.close();
});

test("the VMs table pages from the server: 45,000 rows scroll, filter and sort", async () => {
  const html = await (await context.request.get("/inventory/vms")).text();
  expect(html.length).toBeLessThan(1_000_000);
  const page = await openPage("/inventory/vms");
  await expect(page.getByTestId("table-count")).toHaveText("45,000 VMs");
  await expect(page.getByTestId("row-vm-000-000-000")).toBeVisible();
  // Only the rows around the view are drawn.
  expect(await page.locator("tr.row").count()).toBeLessThanOrEqual(100);
  await page.getByTestId("table-scroll").evaluate((el) => (el.scrollTop = el.scrollHeight));
  await expect(page.getByTestId("row-vm-049-049-017")).toBeVisible();
  expect(await page.locator("tr.row").count()).toBeLessThanOrEqual(100);
  // Filtered by name on the server.
  await page.getByTestId("table-filter").fill("vm-020-010-01");
  await expect(page.getByTestId("table-count")).toHaveText("8 VMs");
  await expect(page.locator("tr.row")).toHaveCount(8);
  // Sorted by name, descending.
  await page.getByTestId("sort-name").click();
  await expect(page.locator("tr.row").first()).toHaveAttribute("data-testid", "row-vm-020-010-017");
  await page.close();
});
