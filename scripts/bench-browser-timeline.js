// Times a plan's page with a 500-move timeline in the browser, on a running vmshift:
//   node scripts/bench-browser-timeline.js URL PLAN_ID
// Opens the plans list, then follows the link to the plan (a client-side navigation: the
// page's wasm is loaded and warm; the record is the one the list holds, fetched again
// beside the render) and measures until the timeline's rows are drawn (a long
// timeline draws the rows near its visible part: `data-drawn` of `data-rows`), then the
// time to redraw after scrolling to its middle. Five runs; prints the median and the worst.
const { chromium } = require("../end2end/node_modules/playwright-core");

(async () => {
  const [url, planId] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  const context = await browser.newContext();
  await context.addCookies([
    { name: "vmshift_session", value: process.env.VMSHIFT_SESSION ?? "", url },
  ]);
  const page = await context.newPage();
  const totals = [];
  const fetches = [];
  const scrolls = [];
  let rows = 0;
  let drawn = 0;
  for (let run = 0; run < 6; run++) {
    await page.goto(`${url}/plans`);
    await page.waitForSelector('body[data-ready="/plans"]', { timeout: 120000 });
    await page.waitForSelector(`a[href="/plans/${planId}"]`);
    const result = await page.evaluate(async (id) => {
      performance.clearResourceTimings();
      const start = performance.now();
      document.querySelector(`a[href="/plans/${id}"]`).click();
      await new Promise((resolve) => {
        const check = () => {
          const svg = document.querySelector('[data-testid="timeline"]');
          if (svg && Number(svg.dataset.drawn) > 0 && svg.querySelectorAll('[data-testid="timeline-row"]').length === Number(svg.dataset.drawn)) {
            resolve();
          } else {
            requestAnimationFrame(check);
          }
        };
        check();
      });
      // Until the frame with the chart is painted.
      await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
      const total = performance.now() - start;
      // Scrolled to the middle: the rows there drawn.
      const frame = document.querySelector(".timeline-frame");
      const scrolled = performance.now();
      frame.scrollTop = frame.scrollHeight / 2;
      await new Promise((resolve) => {
        const check = () => {
          const first = document.querySelector('[data-testid="timeline-row"] rect');
          if (first && Number(first.getAttribute("y")) > frame.scrollTop - 1000) resolve();
          else requestAnimationFrame(check);
        };
        check();
      });
      await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
      const scroll = performance.now() - scrolled;
      const call = performance
        .getEntriesByType("resource")
        .filter((e) => e.name.includes("/rpc/viewer/plans/get"))
        .map((e) => e.responseEnd - e.startTime)[0] ?? 0;
      const svg = document.querySelector('[data-testid="timeline"]');
      return { total, call, scroll, rows: Number(svg.dataset.rows), drawn: Number(svg.dataset.drawn) };
    }, planId);
    rows = result.rows;
    drawn = result.drawn;
    if (run > 0) {
      // The first run loads the page's wasm chunk: not counted.
      totals.push(result.total);
      fetches.push(result.call);
      scrolls.push(result.scroll);
    }
  }
  const med = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
  const worst = (v) => Math.max(...v);
  console.log(`| plan page with a ${rows}-move timeline (${drawn} rows drawn, the rest as it scrolls): link clicked → chart drawn, median / worst | ${med(totals).toFixed(0)} ms / ${worst(totals).toFixed(0)} ms |`);
  // The page draws the record the plans list holds; it fetches it again beside the render.
  console.log(`| the plan's record fetched again meanwhile (not waited for), median | ${med(fetches).toFixed(0)} ms |`);
  console.log(`| scrolled to the middle: the rows there drawn, median / worst | ${med(scrolls).toFixed(0)} ms / ${worst(scrolls).toFixed(0)} ms |`);
  await browser.close();
})();
