import { test, expect } from "@playwright/test";
import { open, screenshots } from "./helpers";
import { ADMIN_STATE } from "../global-setup";

test("evacuating a host from the map: blockers with their fixes, the timeline, what-if, live progress in a second browser, the host in maintenance", async ({
  page,
  browser,
}) => {
  test.setTimeout(180_000);

  // esx-02 cannot empty: its blockers come first, each with its check and its fix.
  await open(page, "/");
  await page.getByTestId("host-esx-02").getByTestId("maintenance-esx-02").click();
  await expect(page).toHaveURL(/\/plans\/new\?evacuate=[0-9a-f-]{36}$/);
  await expect(page.locator("body")).toHaveAttribute("data-ready", "/plans/new");
  const blockers = page.getByTestId("blockers");
  await expect(blockers.locator('[data-testid="blocker"][data-vm="jump-01"]')).toHaveAttribute(
    "data-check",
    "device.local_backing",
  );
  await expect(
    blockers.locator('[data-testid="blocker"][data-vm="ft-billing"] [data-testid="blocker-fix"]'),
  ).toContainText("Fault Tolerance");
  await expect(page.getByTestId("plan-note")).toContainText("esx-02");
  await expect(page.getByTestId("timeline")).toBeVisible();

  // The what-if rows follow the concurrency setting.
  const chosen = page.locator('[data-testid="what-if-row"][data-chosen="true"]');
  await expect(chosen).toHaveAttribute("data-limit", "vSphere's limits");
  const unlimited = await chosen.getAttribute("data-total");
  await page.getByTestId("opt-concurrency").selectOption("1");
  await expect(page.getByTestId("new-plan")).toHaveAttribute("data-planning", "false");
  await expect(chosen).toHaveAttribute("data-limit", "1");
  expect(Number(await chosen.getAttribute("data-total"))).toBeGreaterThan(Number(unlimited));

  // A second browser watches the map.
  const context = await browser.newContext({ storageState: ADMIN_STATE });
  const other = await context.newPage();
  await open(other, "/");
  await expect(other.getByTestId("live-status")).toHaveAttribute("data-state", "live");

  // esx-01 can empty: no blockers, its placement and timeline, then Start.
  await open(page, "/");
  await page.getByTestId("maintenance-esx-01").click();
  await expect(page.locator("body")).toHaveAttribute("data-ready", "/plans/new");
  await expect(page.getByTestId("no-blockers")).toBeVisible();
  await expect(page.getByTestId("placement-row").first()).toBeVisible();
  await expect(page.getByTestId("timeline-row").first()).toBeVisible();
  await expect(page.getByTestId("window-verdict")).toContainText("ends at");
  await expect(page.getByTestId("new-plan")).toHaveAttribute("data-planning", "false");
  await page.screenshot({ path: `${screenshots}/screenshot-plan.png`, fullPage: true });
  await page.getByTestId("plan-start").click();
  await expect(page).toHaveURL(/\/plans\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId("plan-state")).toHaveAttribute("data-state", "running");

  // Live in the second browser: the host being emptied, with its countdown.
  await expect(other.getByTestId("evacuating-esx-01")).toContainText("left");
  // The run: moves done one after another, the actual bars drawn under the predicted ones.
  await expect(page.getByTestId("timeline-actual").first()).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId("plan-state")).toHaveAttribute("data-state", "completed", {
    timeout: 120_000,
  });
  const progress = page.getByTestId("plan-progress");
  expect(await progress.getAttribute("data-done")).toEqual(await progress.getAttribute("data-total"));
  await expect(page.getByTestId("plan-log")).toContainText("esx-01 entered maintenance mode");

  // The second browser shows the host in maintenance, empty, with no reload.
  const host = other.getByTestId("host-esx-01");
  await expect(host).toHaveAttribute("data-state", "maintenance");
  await expect(host.locator("li.vm")).toHaveCount(0);
  await expect(other.getByTestId("evacuating-esx-01")).toHaveCount(0);

  // The plans list beside Tasks.
  await other.getByTestId("nav-plans").click();
  await expect(other.locator('[data-testid="plan-row"][data-state="completed"]').first()).toBeVisible();
  await context.close();
});
