import { expect, Page } from "@playwright/test";

/** Opens a page and waits until the app has hydrated (the root sets data-hydrated). */
export async function open(page: Page, path: string) {
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(path);
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  // The page's own component (a lazy route hydrates after the shell) is interactive.
  const pathname = new URL(path, "http://x").pathname;
  await expect(page.locator("body")).toHaveAttribute("data-ready", pathname);
  return errors;
}

/** A name no earlier run used. */
export function unique(prefix: string) {
  return `${prefix}-${Date.now().toString(36)}${Math.floor(Math.random() * 1000)}`;
}

/** Where screenshots go: under target/ in a test run (the checkout stays as it was); the
 * README's pictures are refreshed with `bash scripts/screenshots.sh`, which points this at
 * docs/. */
export const screenshots = process.env.VMSHIFT_SCREENSHOTS ?? "../target/screenshots";

/** Chooses the wizard's VM by typing its name in the VM picker and picking it from the list. */
export async function pickVm(page: Page, name: string) {
  const box = page.getByTestId("wizard-vm");
  await box.fill(name);
  await page.getByTestId(`wizard-vm-hit-${name}`).click();
  await expect(page.getByTestId("wizard-vm-info")).toBeVisible();
  await expect(page.getByTestId("wizard-vm")).toHaveValue(name);
}
