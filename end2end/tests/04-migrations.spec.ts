import { test, expect, Page, Browser } from "@playwright/test";
import { open, screenshots, pickVm } from "./helpers";
import { ADMIN_STATE } from "../global-setup";

/** Walks the wizard to the summary of a move and starts it; returns on its detail page. */
async function startFromWizard(
  page: Page,
  vm: string,
  kind: "vmotion" | "storage_vmotion" | "combined",
  host: string | null,
  datastore: string | null,
  capMbps: number,
) {
  await open(page, "/migrate");
  await pickVm(page, vm);
  await page.getByTestId(`wizard-kind-${kind}`).click();
  if (host) await page.getByTestId(`target-host-${host}`).click();
  if (datastore) await page.getByTestId(`target-datastore-${datastore}`).click();
  await expect(page.getByTestId("check-results")).toHaveAttribute("data-allowed", "true");
  await page.getByTestId("wizard-next").click();
  await expect(page.getByTestId("wizard-prediction")).toContainText("Predicted");
  await page.getByTestId("option-cap").fill(String(capMbps));
  await page.getByTestId("option-cap").press("Tab");
  await page.getByTestId("wizard-start").click();
  await expect(page).toHaveURL(/\/tasks\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId("migration-detail")).toContainText(vm);
}

/** A second browser (its own context) on the Tasks page. */
async function watcher(browser: Browser) {
  const context = await browser.newContext({ storageState: ADMIN_STATE });
  const page = await context.newPage();
  await open(page, "/tasks");
  await expect(page.getByTestId("live-status")).toHaveAttribute("data-state", "live");
  return { context, page };
}

function row(page: Page, vm: string) {
  return page.locator(`[data-testid="task-row"][data-vm="${vm}"]`).first();
}

/** The row is seen in a running phase with some progress, then completed. */
async function seenLiveThenCompleted(page: Page, vm: string) {
  const r = row(page, vm);
  await expect(r).toHaveAttribute("data-phase", /preparing|disk_copy|memory_precopy|switchover/);
  await expect(r.getByTestId("progress-label")).not.toHaveText("0%", { timeout: 15_000 });
  await expect(r).toHaveAttribute("data-phase", "completed", { timeout: 30_000 });
  await expect(r.getByTestId("progress-label")).toHaveText("100%");
}

test("vMotion, Storage vMotion and combined from the wizard, watched live from a second browser", async ({
  page,
  browser,
}) => {
  test.setTimeout(120_000);
  const other = await watcher(browser);

  // vMotion: web-01 from esx-01 to esx-02.
  await startFromWizard(page, "web-01", "vmotion", "esx-02", null, 200);
  await seenLiveThenCompleted(other.page, "web-01");
  await expect(page.getByTestId("detail-phase")).toHaveText("Completed");
  await expect(page.getByTestId("detail-actual")).toContainText("ms downtime");
  await expect(page.getByTestId("round-bar").first()).toBeVisible();
  await expect(page.getByTestId("event-row").first()).toHaveAttribute("data-phase", "completed");
  await page.screenshot({ path: `${screenshots}/screenshot-migration.png`, fullPage: true });

  // Storage vMotion: app-01's disks from san-gold to vsan-prod.
  await startFromWizard(page, "app-01", "storage_vmotion", null, "vsan-prod", 2_000);
  await seenLiveThenCompleted(other.page, "app-01");

  // Combined: mq-01 to esx-02 and vsan-prod.
  await startFromWizard(page, "mq-01", "combined", "esx-02", "vsan-prod", 2_000);
  await seenLiveThenCompleted(other.page, "mq-01");

  // The map of the second browser shows each VM where it went, with no reload.
  await other.page.getByTestId("nav-map").click();
  const esx02 = other.page.getByTestId("host-esx-02");
  await expect(esx02.getByTestId("vm-web-01")).toBeVisible();
  await expect(esx02.getByTestId("vm-mq-01")).toHaveAttribute("title", /disks on vsan-prod/);
  await expect(other.page.getByTestId("host-esx-01").getByTestId("vm-app-01")).toHaveAttribute(
    "title",
    /disks on vsan-prod/,
  );
  await expect(other.page.getByTestId("host-esx-01").getByTestId("vm-web-01")).toHaveCount(0);
  await other.context.close();
});

test("a VM in motion is marked on the map, and a cancel leaves it on its source", async ({ page, browser }) => {
  // cache-01 on esx-03, capped to crawl.
  await startFromWizard(page, "cache-01", "vmotion", "esx-02", null, 10);
  const other = await browser.newContext({ storageState: ADMIN_STATE }).then((c) => c.newPage());
  await open(other, "/");
  const mark = other.getByTestId("host-esx-03").getByTestId("vm-moving-cache-01");
  await expect(mark).toBeVisible();
  await expect(mark).toContainText("esx-02");

  await page.getByTestId("detail-cancel").click();
  await expect(page.getByTestId("detail-phase")).toHaveText("Cancelled");
  await expect(page.getByTestId("detail-message")).toContainText("cache-01 keeps running on esx-03");
  await expect(mark).toHaveCount(0);
  await expect(other.getByTestId("host-esx-03").getByTestId("vm-cache-01")).toBeVisible();
  await expect(other.getByTestId("host-esx-02").getByTestId("vm-cache-01")).toHaveCount(0);
  await other.context().close();
});

test("an injected vMotion link failure fails the migration and the VM stays on its source", async ({ page }) => {
  await startFromWizard(page, "dns-01", "vmotion", "esx-04", null, 10);
  await page.getByTestId("nav-tasks").click();
  await expect(row(page, "dns-01")).toHaveAttribute("data-phase", /preparing|memory_precopy/);
  const panel = page.getByTestId("faults-panel");
  await panel.locator("summary").click();
  await page.getByTestId("fault-kind").selectOption("vmotion_link_down");
  await page.getByTestId("fault-target").selectOption({ label: "esx-04" });
  await page.getByTestId("fault-inject").click();
  await expect(page.getByTestId("fault-item")).toContainText("esx-04");
  await expect(row(page, "dns-01")).toHaveAttribute("data-phase", "failed");
  await expect(row(page, "dns-01").getByTestId("task-message")).toContainText(
    "The vMotion network of esx-04 went down",
  );
  await expect(row(page, "dns-01").getByTestId("task-message")).toContainText("keeps running on");
  await expect(row(page, "dns-01").getByTestId("task-cancel")).toHaveCount(0);
  await page.screenshot({ path: `${screenshots}/screenshot-tasks.png`, fullPage: true });
  // Clear the fault; the VM is still where it was.
  await page.getByTestId("fault-clear").click();
  await expect(page.getByTestId("fault-item")).toHaveCount(0);
  await page.getByTestId("nav-map").click();
  await expect(page.getByTestId("host-esx-01").getByTestId("vm-dns-01")).toBeVisible();
  await expect(page.getByTestId("host-esx-04").getByTestId("vm-dns-01")).toHaveCount(0);
});

test("Tasks shows a queued migration's reason, a running one's rate, ETA and round, and cancels from its row", async ({
  page,
}) => {
  test.setTimeout(90_000);
  // Three Storage vMotions from esx-04 (4 of its 8 slots each): the third waits.
  const ids: Record<string, string> = {};
  for (const kind of ["vms", "hosts", "datastores"]) {
    for (const o of await (await page.request.get(`/api/v1/${kind}`)).json()) ids[o.name] = o.id;
  }
  const moves = [
    { vm: "cache-02", kind: "storage_vmotion", target_datastore_id: ids["nfs-archive"] },
    { vm: "db-03", kind: "storage_vmotion", target_datastore_id: ids["nfs-archive"] },
    { vm: "app-04", kind: "storage_vmotion", target_datastore_id: ids["nfs-archive"] },
    { vm: "dns-02", kind: "vmotion", target_host_id: ids["esx-02"] },
  ];
  for (const { vm, ...move } of moves) {
    const res = await page.request.post("/api/v1/migrations", {
      data: { vm_id: ids[vm], ...move, options: { bandwidth_cap_mbps: 10 } },
    });
    expect(res.status(), `${vm}: ${await res.text()}`).toBe(201);
  }
  await open(page, "/tasks");
  const queued = row(page, "app-04");
  await expect(queued).toHaveAttribute("data-phase", "queued");
  await expect(queued.getByTestId("task-message")).toContainText("waiting: host esx-04 has 8/8 slots in use");
  await expect(queued.getByTestId("task-eta")).toHaveText("");

  // A running copy shows its rate (the 10 Mbit/s cap) and an ETA.
  const copying = row(page, "cache-02");
  await expect(copying).toHaveAttribute("data-phase", "disk_copy");
  await expect(copying.getByTestId("task-rate")).toContainText("/s");
  await expect(copying.getByTestId("task-eta")).not.toHaveText("");
  // A vMotion in its pre-copy shows its round.
  const vmotion = row(page, "dns-02");
  await expect(vmotion).toHaveAttribute("data-phase", "memory_precopy");
  await expect(vmotion.getByTestId("task-round")).toHaveText("0");

  // Its detail page draws the transfer rate over time.
  await vmotion.getByTestId("task-link").click();
  await expect(page.getByTestId("rate-line")).toBeVisible();
  await page.getByTestId("back-to-tasks").click();

  // Cancel from the rows: the queued one, then the others; every VM stays where it was.
  await row(page, "app-04").getByTestId("task-cancel").click();
  await expect(row(page, "app-04")).toHaveAttribute("data-phase", "cancelled");
  for (const vm of ["cache-02", "db-03", "dns-02"]) {
    await row(page, vm).getByTestId("task-cancel").click();
    await expect(row(page, vm)).toHaveAttribute("data-phase", "cancelled");
    await expect(row(page, vm).getByTestId("task-message")).toContainText("keeps running on");
  }
  await page.getByTestId("nav-map").click();
  await expect(page.getByTestId("host-esx-03").getByTestId("vm-dns-02")).toBeVisible();
  await expect(page.getByTestId("host-esx-04").getByTestId("vm-app-04")).toHaveAttribute("title", /disks on vsan-prod/);
});
