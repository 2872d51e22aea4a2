import { test, expect, Page, Browser } from "@playwright/test";
import { open, pickVm } from "./helpers";

// The interface in French (docs/DESIGN.md#languages): switched from the header with no
// reload, a blocked move's error and remedy in French, a migration's progress in French, and
// the choice kept across a reload, a sign-out and a new sign-in — in another browser too.

const password = process.env.VMSHIFT_ADMIN_PASSWORD ?? "";

/** A browser of its own (no cookie yet), asking for `locale`, signed in through the form. */
async function signedIn(browser: Browser, locale: string) {
  const context = await browser.newContext({ storageState: undefined, locale });
  const page = await context.newPage();
  await page.goto("/");
  await expect(page).toHaveURL(/\/signin/);
  await page.getByTestId("signin-username").fill("admin");
  await page.getByTestId("signin-password").fill(password);
  await page.getByTestId("signin-submit").click();
  await expect(page.getByTestId("map")).toBeVisible();
  return { context, page };
}

/** Picks a language in the header; signed in, waits until the account has kept it. */
async function pickLanguage(page: Page, code: "en" | "fr", signedIn = true) {
  const kept = signedIn
    ? page.waitForResponse((r) => r.url().includes("/rpc/viewer/account/language") && r.ok())
    : Promise.resolve(null);
  await page.getByTestId("lang-select").selectOption(code);
  await expect(page.locator("html")).toHaveAttribute("lang", code);
  await kept;
}

test("the whole flow in French, and the choice kept", async ({ browser }) => {
  test.setTimeout(120_000);
  const { context, page } = await signedIn(browser, "en-US");
  await open(page, "/");
  // English to begin with, whatever an earlier run left on the account.
  if ((await page.locator("html").getAttribute("lang")) !== "en") await pickLanguage(page, "en");
  await expect(page.getByTestId("nav-map")).toHaveText("Map");

  // Switched from the header: the page changes language in place (no reload).
  await page.evaluate(() => ((window as any).__noReload = true));
  await pickLanguage(page, "fr");
  await expect(page.getByTestId("nav-map")).toHaveText("Carte");
  await expect(page.getByTestId("nav-tasks")).toContainText("Tâches");
  await expect(page.getByTestId("map-summary")).toContainText("hôtes");
  expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);

  // The wizard, to a blocked move: the error and its remedy in French (vCenter's wording).
  await page.getByTestId("nav-migrate").click();
  await expect(page.locator("body")).toHaveAttribute("data-ready", "/migrate");
  await expect(page.getByTestId("wizard")).toContainText("Migrer une VM");
  await pickVm(page, "web-03");
  await expect(page.getByTestId("wizard-vm-info")).toContainText(/^Actuellement sur [a-z0-9-]+, disques sur [a-z0-9-]+\. \d+ vCPU, [\d,]+\s?Gio, sous tension\.$/);
  await page.getByTestId("wizard-kind-vmotion").click();
  // Hosts added by earlier tests may push it past the first ones shown.
  const more = page.getByTestId("targets-host-more");
  if (await more.count()) {
    await expect(more).toContainText(/Afficher \d+ de plus/);
    await more.click();
  }
  const esx05 = page.getByTestId("target-host-esx-05");
  await expect(esx05).toHaveAttribute("data-allowed", "false");
  await expect(esx05).toContainText("L'interface vMotion n'est pas configurée");
  await esx05.click();
  const blocked = page.getByTestId("check-vmotion.vmknic").first();
  await expect(blocked).toHaveAttribute("data-severity", "error");
  await expect(blocked.locator(".message")).toHaveText(
    "L'interface vMotion n'est pas configurée (ou est mal configurée) sur l'hôte de destination esx-05",
  );
  await expect(blocked.locator(".remedy")).toHaveText(
    "Activez le service vMotion sur un adaptateur VMkernel de l'hôte.",
  );
  await expect(blocked.locator(".severity")).toHaveText("erreur");
  await expect(page.getByTestId("check-verdict")).toHaveText("Bloquée : corrigez les erreurs ci-dessous.");
  await expect(page.getByTestId("wizard-next")).toHaveText("Corrigez les erreurs pour continuer");

  // An allowed move, started: its summary, prediction and progress in French.
  await page.getByTestId("targets-host").locator('button.target[data-allowed="true"]').first().click();
  await expect(page.getByTestId("check-results")).toHaveAttribute("data-allowed", "true");
  await page.getByTestId("wizard-next").click();
  await expect(page.getByTestId("wizard-summary")).toContainText(/web-03 passe de [a-z0-9-]+ à [a-z0-9-]+ ; ses disques restent en place\./);
  await expect(page.getByTestId("wizard-prediction")).toContainText(/Prévision : \d+,\d\s?s, .* envoyés, \d+ ms d'interruption/);
  await page.getByTestId("option-cap").fill("100");
  await page.getByTestId("option-cap").press("Tab");
  await page.getByTestId("wizard-start").click();
  await expect(page).toHaveURL(/\/tasks\/[0-9a-f-]{36}$/);
  const detail = page.getByTestId("migration-detail");
  await expect(detail).toContainText("Journal des événements");
  await expect(detail).toContainText("Interruption attendue");
  await expect(page.getByTestId("detail-phase")).toHaveText(
    /Préparation|Pré-copie de la mémoire|Basculement|Terminée/,
  );
  await expect(page.getByTestId("detail-phase")).toHaveText("Terminée", { timeout: 60_000 });
  await expect(page.getByTestId("progress-label")).toHaveText("100\u202f%");
  await expect(page.getByTestId("detail-actual")).toContainText("ms d'interruption");
  // The engine's own words, in French too: the status line and the event log.
  await expect(page.getByTestId("detail-message")).toContainText("web-03 s'exécute désormais sur");
  await expect(page.getByTestId("event-row").first()).toContainText("web-03 s'exécute désormais sur");

  // Kept: a reload, then a sign-out (the sign-in page too), then a new sign-in.
  await page.reload();
  await expect(page.locator("html")).toHaveAttribute("lang", "fr");
  await expect(page.getByTestId("nav-map")).toHaveText("Carte");
  await page.getByTestId("signout").click();
  await expect(page).toHaveURL(/\/signin/);
  await expect(page.locator("html")).toHaveAttribute("lang", "fr");
  await expect(page.getByTestId("signin")).toContainText("Connexion à vmshift");
  await page.getByTestId("signin-username").fill("admin");
  await page.getByTestId("signin-password").fill(password);
  await page.getByTestId("signin-submit").click();
  await expect(page.getByTestId("nav-map")).toHaveText("Carte");
  await context.close();

  // Kept per user: another browser asking for English signs in to French.
  const other = await signedIn(browser, "en-US");
  await expect(other.page.locator("html")).toHaveAttribute("lang", "fr");
  await expect(other.page.getByTestId("nav-map")).toHaveText("Carte");
  // Back to English for whoever comes next.
  await open(other.page, "/");
  await pickLanguage(other.page, "en");
  await expect(other.page.getByTestId("nav-map")).toHaveText("Map");
  await other.page.reload();
  await expect(other.page.getByTestId("nav-map")).toHaveText("Map");
  await other.context.close();
});

test("the sign-in page follows the browser's language until one is picked", async ({ browser }) => {
  const context = await browser.newContext({ storageState: undefined, locale: "fr-FR" });
  const page = await context.newPage();
  await page.goto("/signin");
  await expect(page.locator("html")).toHaveAttribute("lang", "fr");
  await expect(page.getByTestId("signin")).toContainText("Mot de passe");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await pickLanguage(page, "en", false);
  await expect(page.getByTestId("signin")).toContainText("Password");
  await page.reload();
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await context.close();
});

test("an inventory form's refusals read in French: the form's own check, the inventory's gate, a name taken", async ({ browser }) => {
  const { context, page } = await signedIn(browser, "fr-FR");
  await open(page, "/");
  await pickLanguage(page, "fr");
  await open(page, "/inventory/vms");
  await expect(page.getByTestId("new-object")).toHaveText("Nouvelle VM");
  await page.getByTestId("new-object").click();
  const form = page.getByTestId("object-form");
  await expect(form.locator("h3")).toHaveText("Nouvelle VM");
  await form.getByTestId("field-name").fill("vm-fr");
  // The form's own check.
  await form.getByTestId("field-memory_mib").fill("beaucoup");
  await form.getByTestId("form-submit").click();
  await expect(form.getByTestId("error-memory_mib")).toHaveText("Mémoire (Mio) : un nombre entier est attendu");
  // The inventory's gate, checked in the browser.
  await form.getByTestId("field-memory_mib").fill("1024");
  await form.getByTestId("field-memory_reservation_mib").fill("2048");
  await form.getByTestId("form-submit").click();
  await expect(form.getByTestId("error-memory_reservation_mib")).toHaveText(
    "memory_reservation_mib : la réservation (2048 Mio) ne peut pas dépasser la mémoire de la VM (1024 Mio)",
  );
  // A name already taken.
  await form.getByTestId("field-memory_reservation_mib").fill("0");
  await form.getByTestId("field-name").fill("web-01");
  await form.getByTestId("form-submit").click();
  await expect(form.getByTestId("error-name")).toHaveText("un objet de type VM nommé web-01 existe déjà");
  await form.getByTestId("form-cancel").click();
  // Back to English for whoever comes next.
  await pickLanguage(page, "en");
  await context.close();
});
