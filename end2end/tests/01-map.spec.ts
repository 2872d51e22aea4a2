import { test, expect } from "@playwright/test";
import { open, screenshots } from "./helpers";

test("the map shows the demo inventory", async ({ page }) => {
  const errors = await open(page, "/");
  const prod = page.getByTestId("cluster-Production");
  await expect(prod).toBeVisible();
  await expect(prod.getByTestId("host-esx-01")).toBeVisible();
  await expect(prod.getByTestId("host-esx-01").getByTestId("vm-web-01")).toBeVisible();
  await expect(page.getByTestId("cluster-Edge").getByTestId("host-edge-01")).toBeVisible();
  // Datastores and the vDS are drawn as bars under the hosts they reach.
  await expect(prod.getByTestId("datastore-san-gold")).toBeVisible();
  await expect(prod.getByTestId("switch-dvs-prod")).toBeVisible();
  await expect(prod.locator("svg.fabric-bar").first()).toBeVisible();
  await expect(page.getByTestId("live-status")).toHaveAttribute("data-state", "live");
  expect(errors).toEqual([]);
});

test("a screenshot of the map for the README", async ({ page }) => {
  await page.setViewportSize({ width: 1680, height: 1050 });
  await open(page, "/");
  await expect(page.getByTestId("live-status")).toHaveAttribute("data-state", "live");
  await page.screenshot({ path: `${screenshots}/screenshot-map.png`, fullPage: false });
});
