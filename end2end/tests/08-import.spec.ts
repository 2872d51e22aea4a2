import { test, expect, Page } from "@playwright/test";
import * as fs from "fs";
import * as path from "path";
import { open, screenshots } from "./helpers";
import { ADMIN_STATE } from "../global-setup";

const SAMPLE = path.join(__dirname, "../../rvtools/tests/data/SizingWorkshop-RVTools.xlsx");

/** Drops files on the drop zone as a browser would (a DataTransfer holding them). */
async function drop(page: Page, files: { name: string; text: string }[]) {
  const transfer = await page.evaluateHandle((files) => {
    const dt = new DataTransfer();
    for (const f of files) dt.items.add(new File([f.text], f.name, { type: "text/csv" }));
    return dt;
  }, files);
  await page.getByTestId("import-dropzone").dispatchEvent("dragover", { dataTransfer: transfer });
  await page.getByTestId("import-dropzone").dispatchEvent("drop", { dataTransfer: transfer });
}

async function count(page: Page, collection: string): Promise<number> {
  const res = await page.request.get(`/api/v1/${collection}`);
  expect(res.ok()).toBeTruthy();
  const body = await res.json();
  return Array.isArray(body) ? body.length : body.items.length;
}

test("CSV files dropped on the Import page are previewed, writing nothing", async ({ page }) => {
  await open(page, "/inventory/import");
  const vms = await count(page, "vms");
  await drop(page, [
    {
      name: "RVTools_tabvInfo.csv",
      text: 'VM;Powerstate;CPUs;Memory;Host;Cluster\nweb-e2e;poweredOn;2;"4.096";esx-e2e;Dropped\nbad-e2e;poweredOn;2;1.024;;Dropped\n',
    },
    { name: "RVTools_tabvHost.csv", text: "Host;Cluster;# Cores;Speed;# Memory\nesx-e2e;Dropped;32;2.600;524.288\n" },
  ]);
  await expect(page.getByTestId("import-chosen")).toContainText("RVTools_tabvInfo.csv");
  const counts = page.getByTestId("import-counts");
  await expect(counts.locator('tr[data-kind="vms"] td').nth(0)).toHaveText("1");
  await expect(counts.locator('tr[data-kind="hosts"] td').nth(0)).toHaveText("1");
  // The VM without a host is left out, its row and column named.
  const warnings = page.getByTestId("import-warnings");
  await expect(warnings).toContainText("bad-e2e");
  await expect(warnings.getByTestId("warning").first().locator("td").nth(1)).toHaveText("3");
  await expect(warnings.getByTestId("warning").first().locator("td").nth(2)).toHaveText("Host");
  expect(await count(page, "vms")).toBe(vms);
});

test("importing the real RVTools export from the page: progress, the report, apply, its clusters on every open map", async ({
  page,
  browser,
}) => {
  test.setTimeout(180_000);
  const before = await count(page, "vms");
  const clustersBefore: string[] = (await (await page.request.get("/api/v1/clusters")).json()).map(
    (c: { name: string }) => c.name,
  );

  // A second browser watches the map.
  const context = await browser.newContext({ storageState: ADMIN_STATE });
  const other = await context.newPage();
  await open(other, "/");
  await expect(other.getByTestId("live-status")).toHaveAttribute("data-state", "live");

  await open(page, "/inventory/import");
  await page.getByTestId("import-files").setInputFiles(SAMPLE);
  await expect(page.getByTestId("import-chosen")).toContainText("SizingWorkshop-RVTools.xlsx");
  const report = page.getByTestId("import-report");
  await expect(report).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId("import-stage")).toHaveCount(0);
  const counts = page.getByTestId("import-counts");
  await expect(counts.locator('tr[data-kind="vms"] td').nth(0)).toHaveText("795");
  await expect(counts.locator('tr[data-kind="clusters"] td').nth(0)).toHaveText("4");
  await expect(page.getByTestId("import-tabs")).toContainText("Templates left out: 10");
  await expect(page.getByTestId("import-guesses")).toContainText("datastores");
  expect(await count(page, "vms")).toBe(before);

  // The warnings filter by tab and by text.
  const rows = page.getByTestId("import-warnings").getByTestId("warning");
  const all = await rows.count();
  expect(all).toBeGreaterThan(0);
  const tab = await rows.first().locator("td").first().textContent();
  await page.getByTestId("warning-filter-tab").selectOption(tab!);
  for (const cell of await rows.locator("td:first-child").allTextContents()) expect(cell).toBe(tab);
  await page.getByTestId("warning-filter-text").fill("no such text anywhere");
  await expect(rows).toHaveCount(0);
  await page.getByTestId("warning-filter-text").fill("");

  // Removing absent objects moves what the file lacks from Keep to Remove, before applying.
  await page.getByTestId("import-remove-absent").check();
  await expect(counts.locator('tr[data-kind="vms"] td').nth(3)).toHaveText(String(before));
  await page.getByTestId("import-remove-absent").uncheck();
  await expect(counts.locator('tr[data-kind="vms"] td').nth(3)).toHaveText("0");
  await page.screenshot({ path: `${screenshots}/import.png`, fullPage: true });

  await page.getByTestId("import-apply").click();
  await expect(page.getByTestId("import-applied")).toContainText("Imported:", { timeout: 60_000 });
  await expect(page.getByTestId("import-applied")).toContainText("0 removed");
  expect(await count(page, "vms")).toBe(before + 795);

  // Its clusters are on the map of the browser that watched, without a reload.
  const clusters: string[] = (await (await page.request.get("/api/v1/clusters")).json())
    .map((c: { name: string }) => c.name)
    .filter((n: string) => !clustersBefore.includes(n));
  expect(clusters.length).toBe(4);
  for (const name of clusters) await expect(other.getByTestId(`cluster-${name}`)).toBeVisible({ timeout: 15_000 });
  await context.close();

  await page.getByTestId("import-to-map").click();
  await expect(page.getByTestId(`cluster-${clusters[0]}`)).toBeVisible();
});
