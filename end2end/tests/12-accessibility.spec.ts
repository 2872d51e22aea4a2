import { test, expect, Page, Browser } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { open, pickVm } from "./helpers";

// Every page scanned by axe-core (WCAG 2.1 A and AA rules), in both themes and both languages
// (docs/ACCESSIBILITY.md): a violation fails the test with its rule, its impact and where.

const WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

async function violations(page: Page) {
  const result = await new AxeBuilder({ page }).withTags(WCAG).analyze();
  return result.violations.map(
    (v) =>
      `${v.id} (${v.impact}): ${v.nodes
        .slice(0, 5)
        .map((n) => `${n.target.join(" ")} ${n.any.map((c) => c.message).join("; ")}`)
        .join(" | ")}`,
  );
}

/** The violations on `path`, each named with it. */
async function scan(page: Page, path: string) {
  await open(page, path);
  return (await violations(page)).map((v) => `${path}: ${v}`);
}

const ROUTES = [
  "/",
  "/migrate",
  "/tasks",
  "/plans",
  "/inventory/clusters",
  "/inventory/hosts",
  "/inventory/vms",
  "/inventory/datastores",
  "/inventory/import",
  "/inventory/connections",
  "/audit",
  "/account",
];

for (const scheme of ["light", "dark"] as const) {
  for (const locale of ["en-US", "fr-FR"]) {
    test(`every page is axe-clean: ${scheme} theme, ${locale}`, async ({ browser }) => {
      const context = await browser.newContext({ colorScheme: scheme, locale });
      const page = await context.newPage();
      const found: string[] = [];
      for (const path of ROUTES) {
        found.push(...(await scan(page, path)));
      }
      await context.close();
      expect(found).toEqual([]);
    });
  }
}

test("the sign-in page is axe-clean, and a wrong password's error too", async ({ browser }) => {
  for (const scheme of ["light", "dark"] as const) {
    const context = await browser.newContext({ storageState: undefined, colorScheme: scheme });
    const page = await context.newPage();
    await page.goto("/signin");
    await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
    expect(await violations(page), `signin ${scheme}`).toEqual([]);
    await page.getByTestId("signin-username").fill("admin");
    await page.getByTestId("signin-password").fill("not-the-password");
    await page.getByTestId("signin-submit").click();
    await expect(page.getByTestId("signin-error")).toBeVisible();
    expect(await violations(page), `signin error ${scheme}`).toEqual([]);
    await context.close();
  }
});

for (const scheme of ["light", "dark"] as const) {
  test(`the states a user reaches are axe-clean (${scheme} theme): the wizard's steps, a migration running and done, a form's errors, a plan drafted and stored, the faults panel`, async ({
    browser,
  }) => {
    test.setTimeout(180_000);
    const context = await browser.newContext({ colorScheme: scheme });
    const page = await context.newPage();
    const found: string[] = [];
    const check = async (label: string) => {
      found.push(...(await violations(page)).map((v) => `${label}: ${v}`));
    };

    // The wizard: a VM picked, a blocked target shown with its errors, an allowed one, the summary.
    await open(page, "/migrate");
    await pickVm(page, "web-03");
    await page.getByTestId("wizard-kind-vmotion").click();
    const more = page.getByTestId("targets-host-more");
    if (await more.count()) await more.click();
    await page.getByTestId("target-host-esx-05").click();
    await expect(page.getByTestId("check-verdict")).toBeVisible();
    await check("wizard, a blocked move");
    await page.getByTestId("targets-host").locator('button.target[data-allowed="true"]').first().click();
    await expect(page.getByTestId("check-results")).toHaveAttribute("data-allowed", "true");
    await check("wizard, an allowed move");
    await page.getByTestId("wizard-next").click();
    await expect(page.getByTestId("wizard-summary")).toBeVisible();
    await check("wizard, the summary");

    // A migration while it runs, then done.
    await page.getByTestId("option-cap").fill("50");
    await page.getByTestId("option-cap").press("Tab");
    await page.getByTestId("wizard-start").click();
    await expect(page).toHaveURL(/\/tasks\/[0-9a-f-]{36}$/);
    await expect(page.getByTestId("migration-detail")).toBeVisible();
    await check("a migration running");
    await expect(page.getByTestId("detail-phase")).toHaveAttribute("class", /phase-completed/, {
      timeout: 60_000,
    });
    await check("a migration done");

    // Tasks with the faults panel open.
    await open(page, "/tasks");
    await page.locator("details.faults summary, details summary").first().click();
    await check("tasks, the faults panel open");

    // A form with its errors shown.
    await open(page, "/inventory/vms");
    await page.getByTestId("new-object").click();
    const form = page.getByTestId("object-form");
    await form.getByTestId("field-memory_mib").fill("lots");
    await form.getByTestId("form-submit").click();
    await expect(form.getByTestId("error-memory_mib")).toBeVisible();
    await check("a form's errors");
    await form.getByTestId("form-cancel").click();

    // A plan drafted: blockers, placement, timeline, what-if.
    await open(page, "/");
    await page.getByTestId("maintenance-esx-02").click();
    await expect(page.locator("body")).toHaveAttribute("data-ready", "/plans/new");
    await expect(page.getByTestId("blockers")).toBeVisible();
    await expect(page.getByTestId("new-plan")).toHaveAttribute("data-planning", "false");
    await check("a plan drafted");

    // A stored plan's page (its timeline, placement and controls).
    const vms: { id: string; name: string }[] = await (await page.request.get("/api/v1/vms")).json();
    const web02 = vms.find((v) => v.name === "web-02")!.id;
    const stored = await page.request.post("/api/v1/plans", {
      data: { goal: { kind: "moves", moves: [{ vm_id: web02 }] } },
    });
    expect(stored.status(), await stored.text()).toBe(201);
    await open(page, `/plans/${(await stored.json()).id}`);
    await check("a stored plan");

    await context.close();
    expect(found).toEqual([]);
  });
}

/** How far the page itself scrolls sideways (its own wide regions may scroll inside). */
async function pageOverflow(page: Page) {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

// WCAG 1.4.10 reflow (320 CSS px) and 1.4.4 text at 200 % (a 1280 px window zoomed to 200 % is
// 640 CSS px wide): no page scrolls sideways as a whole; the map's clusters, tables and charts
// scroll inside their own regions.
for (const width of [320, 640]) {
  test(`every page reflows at ${width} CSS px without scrolling sideways`, async ({ browser }) => {
    const context = await browser.newContext({ viewport: { width, height: 640 } });
    const page = await context.newPage();
    const wide: string[] = [];
    for (const path of ROUTES) {
      await open(page, path);
      const over = await pageOverflow(page);
      if (over > 1) wide.push(`${path}: ${over} px too wide`);
    }
    await context.close();
    expect(wide).toEqual([]);
  });
}

test("reduced motion stops animations and transitions; more contrast strengthens muted text", async ({
  page,
}) => {
  await open(page, "/");
  // A progress bar's fill (it moves with each tick) and the map's muted text, as styled now.
  const look = () =>
    page.evaluate(() => {
      const fill = document.createElement("span");
      fill.className = "progress-fill";
      document.querySelector("main")!.appendChild(fill);
      const muted = document.querySelector(".muted, .summary") as HTMLElement;
      const found = {
        transition: parseFloat(getComputedStyle(fill).transitionDuration),
        muted: getComputedStyle(muted).color,
        text: getComputedStyle(document.body).color,
      };
      fill.remove();
      return found;
    });
  const normal = await look();
  expect(normal.transition).toBeCloseTo(0.25);
  expect(normal.muted).not.toBe(normal.text);
  // As a user's settings are: in effect when the page loads.
  await page.emulateMedia({ reducedMotion: "reduce", contrast: "more" });
  await open(page, "/");
  const asked = await look();
  expect(asked.transition).toBeLessThan(0.001);
  expect(asked.muted).toBe(asked.text);
});
