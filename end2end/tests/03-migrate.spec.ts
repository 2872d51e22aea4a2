import { test, expect, Page } from "@playwright/test";
import { open, pickVm } from "./helpers";

async function chooseVm(page: Page, name: string) {
  await open(page, "/migrate");
  await pickVm(page, name);
  await expect(page.getByTestId("wizard-vm-info")).toBeVisible();
}

async function expectBlocked(page: Page, rule: string, text: string) {
  const results = page.getByTestId("check-results");
  await expect(results).toHaveAttribute("data-allowed", "false");
  await expect(results.getByTestId(`check-${rule}`).first()).toHaveAttribute("data-severity", "error");
  await expect(results.getByTestId(`check-${rule}`).first()).toContainText(text);
  await expect(page.getByTestId("wizard-next")).toBeDisabled();
  await expect(page.getByTestId("wizard-summary")).toHaveCount(0);
}

test("a VM on local storage cannot vMotion", async ({ page }) => {
  await chooseVm(page, "build-local");
  await page.getByTestId("wizard-kind-vmotion").click();
  const target = page.getByTestId("target-host-esx-02");
  await expect(target).toHaveAttribute("data-allowed", "false");
  await target.click();
  await expectBlocked(page, "storage.local", "local datastore local-esx-01");
});

test("a VM on a host-local port group cannot vMotion", async ({ page }) => {
  await chooseVm(page, "legacy-erp");
  await page.getByTestId("wizard-kind-vmotion").click();
  await page.getByTestId("target-host-esx-01").click();
  await expectBlocked(page, "network.portgroup", "vss-legacy");
});

test("a target without vMotion is refused, and is greyed with its reason", async ({ page }) => {
  await chooseVm(page, "web-01");
  await page.getByTestId("wizard-kind-vmotion").click();
  const esx05 = page.getByTestId("target-host-esx-05");
  await expect(esx05).toHaveAttribute("data-allowed", "false");
  await expect(esx05).toContainText("vMotion interface is not configured");
  await esx05.click();
  await expectBlocked(page, "vmotion.vmknic", "destination host esx-05");
});

test("an allowed move reaches the summary, and changing the target updates the checks in place", async ({ page }) => {
  await chooseVm(page, "web-01");
  // Valid targets are listed first.
  const first = page.getByTestId("targets-host").locator("button.target").first();
  await expect(first).toHaveAttribute("data-allowed", "true");
  await page.getByTestId("wizard-kind-vmotion").click();
  await page.getByTestId("target-host-esx-05").click();
  await expect(page.getByTestId("check-results")).toHaveAttribute("data-allowed", "false");
  // Mark the document: a page load would lose the mark.
  await page.evaluate(() => ((window as any).__noReload = true));
  await page.getByTestId("target-host-esx-02").click();
  await expect(page.getByTestId("check-results")).toHaveAttribute("data-allowed", "true");
  await expect(page.getByTestId("check-vm.powered_on")).toHaveAttribute("data-severity", "info");
  expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
  await page.getByTestId("wizard-next").click();
  await expect(page.getByTestId("wizard-summary")).toContainText("web-01 moves from esx-01 to esx-02");
  await expect(page.getByTestId("wizard-prediction")).toContainText(/Predicted: [0-9.]+ s, .* sent, [0-9]+ ms downtime, [0-9]+ pre-copy round/);

  // Storage vMotion and combined also reach their summaries.
  await page.getByTestId("wizard-kind-storage_vmotion").click();
  await page.getByTestId("target-datastore-vsan-prod").click();
  await expect(page.getByTestId("check-results")).toHaveAttribute("data-allowed", "true");
  await page.getByTestId("wizard-kind-combined").click();
  await page.getByTestId("target-host-esx-02").click();
  await page.getByTestId("target-datastore-vsan-prod").click();
  await page.getByTestId("wizard-next").click();
  await expect(page.getByTestId("wizard-summary")).toContainText("its disks to vsan-prod");
});

test("the wizard opens from a VM on the map", async ({ page }) => {
  await open(page, "/");
  await page.getByTestId("host-esx-01").getByTestId("vm-web-01").locator("a").click();
  await expect(page).toHaveURL(/\/migrate\?vm=/);
  await expect(page.getByTestId("wizard-vm-info")).toContainText("Now on esx-01");
});
