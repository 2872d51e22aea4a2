import { test, expect, Page } from "@playwright/test";
import { open, unique } from "./helpers";
import { ADMIN_STATE } from "../global-setup";

async function createHost(page: Page, name: string) {
  await open(page, "/inventory/hosts");
  await page.getByTestId("new-object").click();
  const form = page.getByTestId("object-form");
  await form.getByTestId("field-name").fill(name);
  await form.getByTestId("field-cluster_id").selectOption({ label: "Production" });
  await form.getByTestId("field-cores").fill("24");
  await form.getByTestId("form-submit").click();
  await expect(form).toBeHidden();
  await expect(page.getByTestId(`row-${name}`)).toBeVisible();
}

test("create a host, a shared datastore and a VM through the forms", async ({ page }) => {
  const host = unique("esx-new");
  const datastore = unique("san-new");
  const vm = unique("vm-new");

  await createHost(page, host);

  await open(page, "/inventory/datastores");
  await page.getByTestId("new-object").click();
  let form = page.getByTestId("object-form");
  await form.getByTestId("field-name").fill(datastore);
  await form.getByTestId("field-kind").selectOption("nfs");
  await form.getByTestId("field-capacity_mib").fill("2097152");
  await form.getByTestId(`field-host_ids-${host}`).check();
  await form.getByTestId("field-host_ids-esx-01").check();
  await form.getByTestId("form-submit").click();
  await expect(form).toBeHidden();
  await expect(page.getByTestId(`row-${datastore}`)).toContainText("NFS");

  await open(page, "/inventory/vms");
  await page.getByTestId("new-object").click();
  form = page.getByTestId("object-form");
  await form.getByTestId("field-name").fill(vm);
  await form.getByTestId("field-host_id").selectOption({ label: host });
  await form.getByTestId("field-memory_mib").fill("8192");
  await form.getByTestId("field-disks[0].datastore_id").selectOption({ label: datastore });
  // The new host is on no switch yet: drop the default network adapter.
  await form.getByTestId("remove-nics-0").click();
  await form.getByTestId("form-submit").click();
  await expect(form).toBeHidden();
  await expect(page.getByTestId(`row-${vm}`)).toContainText(host);

  await open(page, "/");
  const card = page.getByTestId(`host-${host}`);
  await expect(card).toBeVisible();
  await expect(card.getByTestId(`vm-${vm}`)).toBeVisible();
  await expect(page.getByTestId("cluster-Production").getByTestId(`datastore-${datastore}`)).toBeVisible();
});

test("bad values are shown next to their field and create nothing", async ({ page, request }) => {
  const before = (await (await request.get("/api/v1/vms")).json()).length;
  await open(page, "/inventory/vms");
  await page.getByTestId("new-object").click();
  const form = page.getByTestId("object-form");
  const name = unique("bad-vm");
  await form.getByTestId("field-name").fill(name);
  await form.getByTestId("field-memory_mib").fill("lots");
  await form.getByTestId("form-submit").click();
  await expect(form.getByTestId("error-memory_mib")).toContainText("whole number");

  // A value of the right shape that the inventory refuses: the reservation exceeds memory.
  await form.getByTestId("field-memory_mib").fill("1024");
  await form.getByTestId("field-memory_reservation_mib").fill("2048");
  await form.getByTestId("form-submit").click();
  await expect(form.getByTestId("error-memory_reservation_mib")).toContainText("cannot exceed");
  await expect(form.getByTestId("error-memory_mib")).toHaveCount(0);

  // A duplicate name, refused by the server-side rules too.
  await form.getByTestId("field-memory_reservation_mib").fill("0");
  await form.getByTestId("field-name").fill("web-01");
  await form.getByTestId("form-submit").click();
  await expect(form.getByTestId("error-name")).toContainText("already exists");

  await form.getByTestId("form-cancel").click();
  await expect(page.getByTestId(`row-${name}`)).toHaveCount(0);
  const after = (await (await request.get("/api/v1/vms")).json()).length;
  expect(after).toBe(before);
});

test("deleting an object in use explains who uses it", async ({ page }) => {
  await open(page, "/inventory/datastores");
  await page.getByTestId("delete-san-gold").click();
  await page.getByTestId("confirm-delete-san-gold").click();
  await expect(page.getByTestId("inventory-error")).toContainText("used by VM");
  await expect(page.getByTestId("row-san-gold")).toBeVisible();
});

test("edit and delete through the forms", async ({ page }) => {
  const host = unique("esx-edit");
  await createHost(page, host);
  await page.getByTestId(`edit-${host}`).click();
  const form = page.getByTestId("object-form");
  await expect(form.getByTestId("field-name")).toHaveValue(host);
  await form.getByTestId("field-memory_mib").fill("524288");
  await form.getByTestId("form-submit").click();
  await expect(form).toBeHidden();
  await expect(page.getByTestId(`row-${host}`)).toContainText("512.0 GiB");

  await page.getByTestId(`delete-${host}`).click();
  await page.getByTestId(`confirm-delete-${host}`).click();
  await expect(page.getByTestId(`row-${host}`)).toHaveCount(0);
});

test("a change in one browser appears in another within a second", async ({ browser }) => {
  const watcher = await browser.newContext({ storageState: ADMIN_STATE });
  const editor = await browser.newContext({ storageState: ADMIN_STATE });
  const map = await watcher.newPage();
  await open(map, "/");
  await expect(map.getByTestId("live-status")).toHaveAttribute("data-state", "live");

  const edit = await editor.newPage();
  const name = unique("esx-live");
  await createHost(edit, name);
  await expect(map.getByTestId(`host-${name}`)).toBeVisible({ timeout: 1_000 });

  await edit.getByTestId(`delete-${name}`).click();
  await edit.getByTestId(`confirm-delete-${name}`).click();
  await expect(map.getByTestId(`host-${name}`)).toHaveCount(0, { timeout: 1_000 });
  await watcher.close();
  await editor.close();
});

test("import a file; a bad file imports nothing and names the field", async ({ page, request }) => {
  const cluster = unique("lab");
  const host = unique("lab-esx");
  const clusterId = crypto.randomUUID();
  const good = {
    clusters: [{ id: clusterId, name: cluster }],
    hosts: [{
      name: host, cluster_id: clusterId, cpu_vendor: "amd", cpu_feature_level: 5, cores: 16,
      cpu_mhz: 3000, memory_mib: 131072, state: "connected", vmotion_enabled: true,
      vmotion_link_gbps: 25, ip_family: "v4",
    }],
  };
  await open(page, "/inventory/hosts");
  await page.getByTestId("import-file").setInputFiles({
    name: "good.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(good)),
  });
  await expect(page.getByTestId("import-result")).toContainText("2 created");
  await expect(page.getByTestId(`row-${host}`)).toBeVisible();

  const before = await (await request.get("/api/v1/inventory")).json();
  const bad = {
    clusters: [{ name: unique("lab2") }],
    vms: [{ name: unique("orphan"), host_id: crypto.randomUUID(), power_state: "on", vcpus: 1,
      memory_mib: 1024, cpu_feature_level: 1 }],
  };
  await page.getByTestId("import-file").setInputFiles({
    name: "bad.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(bad)),
  });
  await expect(page.getByTestId("import-error")).toContainText("vms[0]");
  await expect(page.getByTestId("import-error")).toContainText("no host has id");
  const after = await (await request.get("/api/v1/inventory")).json();
  expect(after).toEqual(before);
});
