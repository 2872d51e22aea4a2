import { test, expect } from "@playwright/test";
import { spawn, ChildProcess } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as readline from "readline";
import { open, screenshots } from "./helpers";
import { ADMIN_STATE } from "../global-setup";

// govmomi's vSphere simulator, the test server of docs/VCENTER.md#the-test-server.
const VCSIM = path.join(__dirname, "../../target/vcsim/vcsim");
const USER = "administrator@vsphere.local";
const PASSWORD = "vmshift-vcsim";
const VM = "DC0_C0_RP0_VM0";

let sim: ChildProcess | undefined;
let url = "";

test.beforeAll(async () => {
  if (!fs.existsSync(VCSIM)) return;
  sim = spawn(VCSIM, ["-cluster", "1", "-cluster-host", "2", "-ds", "1", "-vm", "2", "-username", USER, "-password", PASSWORD], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  const lines = readline.createInterface({ input: sim.stdout! });
  url = await new Promise<string>((resolve) => lines.once("line", (l) => resolve(l.trim())));
});

test.afterAll(async () => {
  sim?.kill();
});

/** One SOAP call to the simulator, as an admin in vCenter would make it. */
async function soap(cookie: string, method: string, thisType: string, thisValue: string, body: string) {
  const envelope =
    `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:vim25">` +
    `<soapenv:Body><${method}><_this type="${thisType}">${thisValue}</_this>${body}</${method}></soapenv:Body></soapenv:Envelope>`;
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "text/xml", soapaction: "urn:vim25/6.5", ...(cookie ? { cookie } : {}) },
    body: envelope,
  });
  const text = await res.text();
  const set = res.headers.get("set-cookie");
  return { text, cookie: set ? set.split(";")[0] : cookie };
}

async function powerOff(name: string) {
  const login = await soap("", "Login", "SessionManager", "SessionManager", `<userName>${USER}</userName><password>${PASSWORD}</password>`);
  const found = await soap(login.cookie, "FindByInventoryPath", "SearchIndex", "SearchIndex", `<inventoryPath>DC0/vm/${name}</inventoryPath>`);
  const moref = /<returnval[^>]*>([^<]+)<\/returnval>/.exec(found.text)?.[1];
  expect(moref, found.text).toBeTruthy();
  const task = await soap(login.cookie, "PowerOffVM_Task", "VirtualMachine", moref!, "");
  expect(task.text).toContain("returnval");
}

test("a vCenter connected from its page is on every map, follows vCenter's changes live, and leaves with its objects", async ({
  page,
  browser,
}) => {
  test.skip(!fs.existsSync(VCSIM), "the vSphere simulator is not built (scripts/install-vcsim.sh)");
  test.setTimeout(120_000);

  // A second browser watches the map.
  const context = await browser.newContext({ storageState: ADMIN_STATE });
  const other = await context.newPage();
  await open(other, "/");
  await expect(other.getByTestId("live-status")).toHaveAttribute("data-state", "live");

  await open(page, "/inventory/connections");
  await page.getByTestId("connection-url").fill(url);
  await page.getByTestId("connection-username").fill(USER);
  await page.getByTestId("connection-password").fill("not-the-password");
  await page.getByTestId("connection-name").fill("lab-vc");
  await page.getByTestId("connection-create").click();
  await expect(page.getByTestId("connection-form-error")).toHaveAttribute("data-field", "password");
  await expect(page.getByTestId("connection-form-error")).toContainText("refused");

  await page.getByTestId("connection-password").fill(PASSWORD);
  await page.getByTestId("connection-create").click();
  const row = page.locator('[data-testid="connection"][data-name="lab-vc"]');
  await expect(row).toHaveAttribute("data-state", "synced", { timeout: 20_000 });
  await expect(row.getByTestId("connection-objects")).toContainText("2 hosts");
  await page.screenshot({ path: `${screenshots}/vcenter.png`, fullPage: true });

  // Its cluster is on the other map, marked with its vCenter, without a reload.
  await expect(other.getByTestId("vcenter-DC0_C0")).toContainText("lab-vc", { timeout: 10_000 });
  await expect(other.getByTestId(`vm-${VM}`)).toHaveClass(/power-on/);

  // Mirrored objects are read-only in the editors.
  await open(page, "/inventory/vms");
  // The table draws the rows in view: earlier suites may have imported hundreds of VMs.
  await page.getByTestId("table-filter").fill(VM);
  await expect(page.getByTestId(`vcenter-${VM}`)).toBeVisible();
  await expect(page.getByTestId(`edit-${VM}`)).toHaveCount(0);

  // The wizard asks vCenter too: its verdict beside vmshift's checks.
  const vmId = (await (await page.request.get("/api/v1/vms")).json()).find((v: { name: string }) => v.name === VM).id;
  await open(page, `/migrate?vm=${vmId}`);
  await page.getByTestId("wizard-kind-vmotion").click();
  await page.locator('[data-testid^="target-host-DC0_C0_H"][data-allowed="true"]').first().click();
  await expect(page.getByTestId("check-results")).toHaveAttribute("data-allowed", "true");
  await expect(page.getByTestId("check-vcenter.compatibility")).toContainText("vCenter's own check finds the move compatible", {
    timeout: 15_000,
  });

  // A VM powered off in vCenter is off on the watching map.
  await powerOff(VM);
  await expect(other.getByTestId(`vm-${VM}`)).toHaveClass(/power-off/, { timeout: 5_000 });

  // A vMotion through vCenter: its task and progress on the migration's page.
  const ids: Record<string, string> = {};
  for (const c of ["hosts", "vms"]) {
    for (const o of await (await page.request.get(`/api/v1/${c}`)).json()) ids[o.name] = o.id;
  }
  const vm = (await (await page.request.get(`/api/v1/vms/${ids[VM]}`)).json()) as { host_id: string };
  const target = ["DC0_C0_H0", "DC0_C0_H1"].find((h) => ids[h] !== vm.host_id)!;
  const res = await page.request.post("/api/v1/migrations", {
    data: { vm_id: ids[VM], kind: "vmotion", target_host_id: ids[target] },
  });
  expect(res.status(), await res.text()).toBe(201);
  const migration = (await res.json()) as { id: string };
  await open(page, `/tasks/${migration.id}`);
  await expect(page.getByTestId("detail-vcenter-task")).toContainText("task-", { timeout: 20_000 });
  await expect(page.getByTestId("detail-phase")).toContainText("Completed", { timeout: 30_000 });
  await page.screenshot({ path: `${screenshots}/vcenter-migration.png`, fullPage: true });
  // The watching map has it on its new host.
  await expect(other.getByTestId(`host-${target}`).getByTestId(`vm-${VM}`)).toBeVisible({ timeout: 10_000 });

  // Disconnected: its objects leave every map.
  await open(page, "/inventory/connections");
  await row.getByTestId("connection-delete").click();
  await row.getByTestId("connection-delete-confirm").click();
  await expect(page.getByTestId("connection-notice")).toContainText("Disconnected");
  await expect(other.getByTestId("cluster-DC0_C0")).toHaveCount(0, { timeout: 10_000 });
  await context.close();
});
