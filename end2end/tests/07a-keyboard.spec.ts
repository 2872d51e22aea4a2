import { test, expect, Page, Locator } from "@playwright/test";
import { open, unique } from "./helpers";

// Keyboard only (docs/ACCESSIBILITY.md): every action below is reached with Tab and done with
// Enter, Space or typing — no click() — and the live region tells a migration's end once.
// Runs before the RVTools import (08) fills the map with hundreds of VMs to Tab past.

/** Presses Tab until `target` (or a control inside it) has the focus (at most `max` times); returns the test ids of the
 * elements passed on the way, in order. Fails if the target is never reached. */
async function tabTo(page: Page, target: Locator, max = 120): Promise<string[]> {
  const passed: string[] = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press("Tab");
    if (await target.evaluate((el) => el.contains(document.activeElement))) return passed;
    passed.push(
      await page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        return el?.closest("[data-testid]")?.getAttribute("data-testid") ?? el?.tagName ?? "";
      }),
    );
  }
  throw new Error(`not reached by Tab: ${target}; passed ${passed.slice(-20).join(", ")}`);
}

/** The focused element shows its focus (WCAG 2.4.7): an outline is drawn around it. */
async function focusVisible(page: Page) {
  const outline = await page.evaluate(() => {
    const style = getComputedStyle(document.activeElement as HTMLElement);
    return `${style.outlineStyle} ${parseFloat(style.outlineWidth)}`;
  });
  expect(outline, "the focused control draws an outline").not.toMatch(/^none|\s0$/);
}

async function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    return el?.getAttribute("data-testid") ?? el?.id ?? el?.tagName ?? "";
  });
}

async function ids(page: Page) {
  const ids: Record<string, string> = {};
  for (const kind of ["vms", "hosts", "datastores"]) {
    for (const o of await (await page.request.get(`/api/v1/${kind}`)).json()) ids[o.name] = o.id;
  }
  return ids;
}

test("sign in, skip to the content, and the header's order, by keyboard", async ({ browser }) => {
  const context = await browser.newContext({ storageState: undefined });
  const page = await context.newPage();
  await page.goto("/signin");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  // The skip link is the first stop, shown when focused.
  await page.keyboard.press("Tab");
  expect(await focused(page)).toBe("skip-link");
  await expect(page.getByTestId("skip-link")).toBeInViewport();
  await tabTo(page, page.getByTestId("signin-username"));
  await page.keyboard.type("admin");
  await page.keyboard.press("Tab");
  expect(await focused(page)).toBe("signin-password");
  await page.keyboard.type(process.env.VMSHIFT_ADMIN_PASSWORD ?? "");
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("current-user")).toBeVisible();
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");

  // A VM's power state is in its link's name, not only in its dot's colour.
  await expect(page.getByTestId("vm-archive-old").locator("a").first()).toHaveAccessibleName(
    /archive-old \(powered off\)/i,
  );
  await expect(page.getByTestId("vm-web-01").locator("a").first()).toHaveAccessibleName("web-01");

  // On the map: skip link, then Enter lands in the main content, past the header.
  await page.keyboard.press("Tab");
  expect(await focused(page)).toBe("skip-link");
  await page.keyboard.press("Enter");
  expect(await focused(page)).toBe("main");
  await page.keyboard.press("Tab");
  expect(
    await page.evaluate(() => document.querySelector("main")!.contains(document.activeElement)),
  ).toBe(true);
  await context.close();
});

test("open a VM from the map, run the wizard to Start, and cancel the migration, by keyboard", async ({
  page,
}) => {
  test.setTimeout(90_000);
  await open(page, "/");
  // The map's VM is a link: focused, Enter opens the wizard for it.
  await tabTo(page, page.getByTestId("vm-web-04").locator("a").first(), 400);
  await focusVisible(page);
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/migrate\?vm=/);
  await expect(page.locator("body")).toHaveAttribute("data-ready", "/migrate");
  await expect(page.getByTestId("wizard-vm-info")).toBeVisible();

  // The wizard's steps in order: the VM, the kind, a target, Next.
  const order: string[] = [];
  order.push(...(await tabTo(page, page.getByTestId("wizard-kind-vmotion"))), "wizard-kind-vmotion");
  // The kinds are one group of radio buttons: the arrows choose.
  await page.keyboard.press("ArrowRight");
  await expect(page.getByTestId("wizard-kind-storage_vmotion").locator("input")).toBeChecked();
  await page.keyboard.press("ArrowLeft");
  await expect(page.getByTestId("wizard-kind-vmotion").locator("input")).toBeChecked();
  const allowed = page.getByTestId("targets-host").locator('button.target[data-allowed="true"]').first();
  await expect(allowed).toBeVisible();
  order.push(...(await tabTo(page, allowed)), "target");
  await focusVisible(page);
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("check-results")).toHaveAttribute("data-allowed", "true");
  order.push(...(await tabTo(page, page.getByTestId("wizard-next"))), "wizard-next");
  await focusVisible(page);
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("wizard-summary")).toBeVisible();
  const at = (id: string) => order.findIndex((o) => o.startsWith(id));
  expect(at("wizard-vm")).toBeGreaterThanOrEqual(0);
  expect(at("wizard-vm")).toBeLessThan(at("wizard-kind"));
  expect(at("wizard-kind")).toBeLessThan(at("target"));
  expect(at("target")).toBeLessThan(at("wizard-next"));

  // A slow move (10 Mbit/s), started with Enter, then cancelled from its page.
  await tabTo(page, page.getByTestId("option-cap"));
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.type("10");
  await tabTo(page, page.getByTestId("wizard-start"));
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/tasks\/[0-9a-f-]{36}$/);
  await expect(page.locator("body")).toHaveAttribute("data-ready", /\/tasks\//);
  await tabTo(page, page.getByTestId("detail-cancel"));
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("detail-phase")).toHaveAttribute("class", /phase-cancelled/, {
    timeout: 20_000,
  });
});

test("inject and clear a fault, by keyboard", async ({ page }) => {
  await open(page, "/tasks");
  const summary = page.getByTestId("faults-panel").locator("summary");
  await tabTo(page, summary);
  await page.keyboard.press("Enter");
  await tabTo(page, page.getByTestId("fault-kind"));
  // Typing picks an option of a focused list.
  await page.keyboard.type("vMotion");
  await expect(page.getByTestId("fault-kind")).toHaveValue("vmotion_link_down");
  await tabTo(page, page.getByTestId("fault-target"));
  await page.keyboard.type("esx-06");
  await tabTo(page, page.getByTestId("fault-inject"));
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("fault-item")).toContainText("esx-06");
  await tabTo(page, page.getByTestId("fault-clear"));
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("fault-item")).toHaveCount(0);
});

test("create and edit an inventory object, by keyboard", async ({ page }) => {
  const name = unique("kbd");
  await open(page, "/inventory/clusters");
  await tabTo(page, page.getByTestId("new-object"));
  await page.keyboard.press("Enter");
  const form = page.getByTestId("object-form");
  await tabTo(page, form.getByTestId("field-name"));
  await page.keyboard.type(name);
  await page.keyboard.press("Enter");
  await expect(page.getByTestId(`edit-${name}`)).toBeVisible();
  await tabTo(page, page.getByTestId(`edit-${name}`), 400);
  await page.keyboard.press("Enter");
  await tabTo(page, form.getByTestId("field-name"));
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.type(`${name}-b`);
  await page.keyboard.press("Enter");
  await expect(page.getByTestId(`edit-${name}-b`)).toBeVisible();
});

test("import a file, by keyboard: the file picker opened with Space, the report, apply", async ({
  page,
}) => {
  const host = unique("esx-kbd");
  await open(page, "/inventory/import");
  await tabTo(page, page.getByTestId("import-files"));
  const chooser = page.waitForEvent("filechooser");
  await page.keyboard.press("Space");
  await (
    await chooser
  ).setFiles([
    {
      name: "RVTools_tabvInfo.csv",
      mimeType: "text/csv",
      buffer: Buffer.from(`VM;Powerstate;CPUs;Memory;Host;Cluster\n${host}-vm;poweredOn;2;"4.096";${host};Keyboard\n`),
    },
    {
      name: "RVTools_tabvHost.csv",
      mimeType: "text/csv",
      buffer: Buffer.from(`Host;Cluster;# Cores;Speed;# Memory\n${host};Keyboard;32;2.600;524.288\n`),
    },
  ]);
  await expect(page.getByTestId("import-chosen")).toContainText("RVTools_tabvHost.csv");
  await expect(page.getByTestId("import-counts").locator('tr[data-kind="hosts"] td').nth(0)).toHaveText("1");
  await tabTo(page, page.getByTestId("import-apply"));
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("import-applied")).toBeVisible({ timeout: 20_000 });
  const hosts: { name: string }[] = await (await page.request.get("/api/v1/hosts")).json();
  expect(hosts.map((h) => h.name)).toContain(host);
});

test("the live region announces a migration's end exactly once, and no progress", async ({ page }) => {
  test.setTimeout(90_000);
  await open(page, "/");
  await expect(page.getByTestId("live-status")).toHaveAttribute("data-state", "live");
  // Every text the region is given, as a screen reader would be told it.
  await page.evaluate(() => {
    const region = document.querySelector('[data-testid="announcer"]')!;
    (window as any).told = [];
    new MutationObserver(() => (window as any).told.push(region.textContent)).observe(region, {
      childList: true,
      characterData: true,
      subtree: true,
    });
  });
  const n = await ids(page);
  const vm = await (await page.request.get(`/api/v1/vms/${n["mq-02"]}`)).json();
  const to = vm.host_id === n["esx-03"] ? "esx-02" : "esx-03";
  const res = await page.request.post("/api/v1/migrations", {
    data: { vm_id: n["mq-02"], kind: "vmotion", target_host_id: n[to] },
  });
  expect(res.status(), await res.text()).toBe(201);
  const id = (await res.json()).id;
  await expect
    .poll(async () => (await (await page.request.get(`/api/v1/migrations/${id}`)).json()).phase, {
      timeout: 60_000,
    })
    .toMatch(/completed|failed/);
  const phase = (await (await page.request.get(`/api/v1/migrations/${id}`)).json()).phase;
  // The region speaks at most once a second: wait for it, then a little more.
  await expect
    .poll(async () => (await page.evaluate(() => (window as any).told as string[])).join(" | "))
    .toContain("mq-02");
  await page.waitForTimeout(2_500);
  const told: string[] = await page.evaluate(() => (window as any).told.filter((t: string) => t.trim()));
  expect(told).toHaveLength(1);
  expect(told[0]).toContain(`mq-02 ${phase === "completed" ? "completed" : "failed"}`);
});

test("a migration's charts open as tables of the same figures, by keyboard", async ({ page }) => {
  const list: { id: string; phase: string }[] = await (await page.request.get("/api/v1/migrations")).json();
  const done = list.find((m) => m.phase === "completed");
  expect(done, "a completed migration from the tests before").toBeTruthy();
  await open(page, `/tasks/${done!.id}`);
  const bars = await page.getByTestId("round-bar").count();
  expect(bars).toBeGreaterThan(0);
  const rounds = page.getByTestId("rounds-table");
  await expect(rounds.locator("tbody tr")).toHaveCount(0);
  await tabTo(page, rounds.locator("summary"));
  await page.keyboard.press("Enter");
  await expect(rounds.locator("tbody tr")).toHaveCount(bars);
  const rate = page.getByTestId("rate-table");
  await tabTo(page, rate.locator("summary"));
  await page.keyboard.press("Enter");
  expect(await rate.locator("tbody tr").count()).toBeGreaterThan(1);
  await page.keyboard.press("Enter");
  await expect(rate.locator("tbody tr")).toHaveCount(0);
});
