import { test, expect, Browser } from "@playwright/test";
import { open, pickVm } from "./helpers";

/** Creates a user through the API (the page's request context is the admin's). */
async function createUser(request: import("@playwright/test").APIRequestContext, username: string, role: string) {
  const res = await request.post("/api/v1/users", {
    data: { username, password: `${username}-password`, role },
  });
  expect(res.status()).toBe(201);
}

/** A fresh browser (no session) signed in through the sign-in page. */
async function signedIn(browser: Browser, username: string) {
  const context = await browser.newContext({ storageState: undefined });
  const page = await context.newPage();
  await page.goto("/");
  await expect(page).toHaveURL(/\/signin\?next=\//);
  await page.getByTestId("signin-username").fill(username);
  await page.getByTestId("signin-password").fill(`${username}-password`);
  await page.getByTestId("signin-submit").click();
  await expect(page.getByTestId("current-user")).toContainText(username);
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  return { context, page };
}

test("sign in, a wrong password is refused, sign out", async ({ browser }) => {
  const context = await browser.newContext({ storageState: undefined });
  const page = await context.newPage();
  await page.goto("/tasks");
  await expect(page).toHaveURL(/\/signin\?next=\/tasks/);
  await page.getByTestId("signin-username").fill("admin");
  await page.getByTestId("signin-password").fill("not-the-password");
  await page.getByTestId("signin-submit").click();
  await expect(page.getByTestId("signin-error")).toContainText("Wrong username or password");
  await page.getByTestId("signin-username").fill("admin");
  await page.getByTestId("signin-password").fill(process.env.VMSHIFT_ADMIN_PASSWORD ?? "");
  await page.getByTestId("signin-submit").click();
  await expect(page).toHaveURL(/\/tasks$/);
  await expect(page.getByTestId("current-user")).toHaveAttribute("data-role", "admin");
  await page.getByTestId("signout").click();
  await expect(page).toHaveURL(/\/signin/);
  await page.goto("/");
  await expect(page).toHaveURL(/\/signin\?next=\//);
  await context.close();
});

test("a viewer sees the live map but cannot start a migration, and the API says 403", async ({
  page,
  browser,
}) => {
  await open(page, "/");
  await createUser(page.request, "vera", "viewer");
  const viewer = await signedIn(browser, "vera");
  await expect(viewer.page.getByTestId("map-summary")).toBeVisible();
  await expect(viewer.page.getByTestId("live-status")).toHaveAttribute("data-state", "live");
  // The wizard checks and predicts, but offers no Start.
  await viewer.page.getByTestId("nav-migrate").click();
  await pickVm(viewer.page, "web-03");
  await viewer.page.getByTestId("wizard-kind-vmotion").click();
  await viewer.page.getByTestId("target-host-esx-01").click();
  await viewer.page.getByTestId("wizard-next").click();
  await expect(viewer.page.getByTestId("wizard-prediction")).toContainText("Predicted");
  await expect(viewer.page.getByTestId("wizard-start")).toHaveCount(0);
  await expect(viewer.page.getByTestId("wizard-start-denied")).toBeVisible();
  // No inventory editing either.
  await viewer.page.getByTestId("nav-inventory").click();
  await expect(viewer.page.getByTestId("object-table")).toBeVisible();
  await expect(viewer.page.getByTestId("new-object")).toHaveCount(0);
  // The API refuses the viewer with 403.
  const vms = await (await viewer.page.request.get("/api/v1/vms")).json();
  const hosts = await (await viewer.page.request.get("/api/v1/hosts")).json();
  const res = await viewer.page.request.post("/api/v1/migrations", {
    data: {
      vm_id: vms.find((v: any) => v.name === "dns-02").id,
      kind: "vmotion",
      target_host_id: hosts.find((h: any) => h.name === "esx-01").id,
    },
  });
  expect(res.status()).toBe(403);
  expect((await res.json()).error.code).toBe("forbidden");
  await viewer.context.close();
});

test("an operator migrates a VM", async ({ page, browser }) => {
  await open(page, "/");
  await createUser(page.request, "otto", "operator");
  const operator = await signedIn(browser, "otto");
  await operator.page.getByTestId("nav-migrate").click();
  // (dns-02 cannot go to esx-01: the demo keeps the DNS servers apart.)
  await pickVm(operator.page, "web-03");
  await operator.page.getByTestId("wizard-kind-vmotion").click();
  await operator.page.getByTestId("target-host-esx-01").click();
  await operator.page.getByTestId("wizard-next").click();
  await operator.page.getByTestId("wizard-start").click();
  await expect(operator.page).toHaveURL(/\/tasks\/[0-9a-f-]{36}$/);
  await expect(operator.page.getByTestId("detail-phase")).toHaveText("Completed", { timeout: 30_000 });
  await operator.page.getByTestId("nav-map").click();
  await expect(operator.page.getByTestId("host-esx-01").getByTestId("vm-web-03")).toBeVisible();
  // Operators do not edit the inventory.
  await operator.page.getByTestId("nav-inventory").click();
  await expect(operator.page.getByTestId("object-table")).toBeVisible();
  await expect(operator.page.getByTestId("new-object")).toHaveCount(0);
  await operator.context.close();

  // The admin's audit page shows who did it.
  await open(page, "/audit");
  await page.getByTestId("audit-actor").fill("otto");
  await page.getByTestId("audit-actor").press("Tab");
  const row = page.locator('[data-testid="audit-row"][data-action="migration.start"]');
  // Only otto's rows once the filter applies (the admin started migrations earlier).
  await expect(page.locator('[data-testid="audit-row"]:not([data-actor="otto"])')).toHaveCount(0);
  await expect(row).toHaveCount(1);
  await expect(row).toHaveAttribute("data-actor", "otto");
  await expect(row).toContainText("web-03");
  await page.getByTestId("audit-action").selectOption("migration.start");
  await expect(page.getByTestId("audit-row")).toHaveCount(1);
  await expect(page.getByTestId("audit-csv")).toHaveAttribute("href", /actor=otto&action=migration.start/);
});

test("API tokens are created and revoked on the account page", async ({ page }) => {
  await open(page, "/account");
  await page.getByTestId("token-name").fill("nightly report");
  await page.getByTestId("token-create").click();
  const secret = page.getByTestId("token-secret").locator("code");
  await expect(secret).toHaveText(/^vms_[0-9a-f]{64}$/);
  const token = await secret.textContent();
  const item = page.locator('[data-testid="token-item"]', { hasText: "nightly report" });
  await expect(item).toHaveAttribute("data-revoked", "false");
  // The token works for a script (no cookie), then stops once revoked.
  const script = await (await import("@playwright/test")).request.newContext({
    baseURL: process.env.VMSHIFT_URL,
    storageState: undefined,
    extraHTTPHeaders: { authorization: `Bearer ${token}` },
  });
  expect((await script.get("/api/v1/hosts")).status()).toBe(200);
  await item.getByTestId("token-revoke").click();
  await expect(item).toHaveAttribute("data-revoked", "true");
  expect((await script.get("/api/v1/hosts")).status()).toBe(401);
  await script.dispose();
});
