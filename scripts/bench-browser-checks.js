// Times the migrate wizard's in-browser checks (the Rust rules compiled to wasm) for each
// target change, on a running vmshift: node scripts/bench-browser-checks.js URL VM_NAME
// Prints the median and worst `data-check-ms` the wizard records (checks + target ranking).
const { chromium } = require("../end2end/node_modules/playwright-core");

(async () => {
  const [url, vmName] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  // Signed in with the session the caller opened (VMSHIFT_SESSION).
  const context = await browser.newContext();
  await context.addCookies([
    { name: "vmshift_session", value: process.env.VMSHIFT_SESSION ?? "", url },
  ]);
  const page = await context.newPage();
  await page.goto(`${url}/migrate`);
  await page.waitForSelector("body[data-hydrated]", { timeout: 120000 });
  await page.getByTestId("wizard-vm").fill(vmName);
  await page.getByTestId(`wizard-vm-hit-${vmName}`).click();
  await page.getByTestId("wizard-kind-vmotion").click();
  // Every target listed (the wizard shows the best 12 first).
  const more = page.getByTestId("targets-host-more");
  if (await more.count()) await more.click();
  const buttons = page.getByTestId("targets-host").locator("button.target");
  const count = Math.min(await buttons.count(), 40);
  const times = [];
  for (let i = 0; i < count; i++) {
    await buttons.nth(i).click();
    const ms = await page.getByTestId("check-results").getAttribute("data-check-ms");
    times.push(parseFloat(ms));
  }
  times.sort((a, b) => a - b);
  const hosts = await buttons.count();
  console.log(`| in-browser checks per target change (${hosts} hosts ranked + the chosen move checked, ${count} changes) median / worst | ${times[Math.floor(times.length / 2)].toFixed(2)} ms / ${times[times.length - 1].toFixed(2)} ms |`);
  await browser.close();
})();
