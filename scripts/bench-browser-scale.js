// Issue 16's figures in the browser at vCenter's maximum (docs/PERFORMANCE.md, "Issue 16"), on
// a running vmshift holding the generated 50 × 50 × 18 inventory, signed in with the session
// the caller opened (VMSHIFT_SESSION):
//
//     node scripts/bench-browser-scale.js URL [MINUTES]
//
// (MINUTES 0: the loads and search only.)
//
// Cold loads of the map and the wizard (a fresh browser context each: no cache), search as
// you type, the live link's bytes per second with 100 migrations running, and the browser's
// memory after MINUTES (10 by default) with the map open and the migrations running, then the
// overview's live link with 100 moves starting, changing phase and completing all the time.
// Prints Markdown rows.
const { chromium } = require("../end2end/node_modules/playwright-core");
const { execSync } = require("node:child_process");

const [url, minutesArg] = process.argv.slice(2);
const minutes = Number(minutesArg ?? 10);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const worst = (xs) => Math.max(...xs);
const kib = (b) => `${Math.round(b / 1024)} KiB`;

async function context(browser) {
  const c = await browser.newContext();
  await c.addCookies([{ name: "vmshift_session", value: process.env.VMSHIFT_SESSION ?? "", url }]);
  return c;
}

/// A cold load of `path`: milliseconds until the page is interactive (`data-ready`) and until
/// `until` shows, and the bytes transferred (compressed) before it was interactive.
async function cold(browser, path, ready, until) {
  const c = await context(browser);
  const page = await c.newPage();
  const cdp = await c.newCDPSession(page);
  await cdp.send("Network.enable");
  let bytes = 0;
  cdp.on("Network.loadingFinished", (e) => (bytes += e.encodedDataLength));
  const t0 = Date.now();
  await page.goto(url + path);
  await page.waitForSelector(`body[data-ready='${ready}']`, { timeout: 120000 });
  const interactive = Date.now() - t0;
  const transferred = bytes;
  await page.waitForSelector(until, { timeout: 120000 });
  const shown = Date.now() - t0;
  await c.close();
  return { interactive, shown, transferred };
}

async function api(c, method, path, data) {
  const res = await c.request.fetch(url + path, { method, data });
  if (!res.ok()) throw new Error(`${method} ${path}: ${res.status()} ${await res.text()}`);
  return res.json();
}

/// The renderer processes (Chromium's pages): how many, and their memory summed as RSS and as
/// PSS (shared pages divided among the processes sharing them), MiB.
function renderers() {
  const pids = execSync("pgrep -f -- '--type=renderer' || true").toString().split("\n").filter(Boolean);
  let rss = 0, pss = 0;
  for (const pid of pids) {
    try {
      const rollup = require("node:fs").readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
      rss += Number(/^Rss:\s+(\d+)/m.exec(rollup)[1]);
      pss += Number(/^Pss:\s+(\d+)/m.exec(rollup)[1]);
    } catch {}
  }
  return { count: pids.length, rss: Math.round(rss / 1024), pss: Math.round(pss / 1024) };
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  const main = await context(browser);
  const ids = {};
  for (const kind of ["clusters", "hosts", "vms"]) {
    for (const o of await api(main, "GET", `/api/v1/${kind}`)) ids[o.name] = o.id;
  }

  // Cold loads, one warm-up each, then five.
  const map = [], wizard = [];
  await cold(browser, "/", "/", ".tile");
  for (let i = 0; i < 5; i++) map.push(await cold(browser, "/", "/", ".tile"));
  const vm = ids["vm-025-025-005"];
  await cold(browser, `/migrate?vm=${vm}`, "/migrate", "[data-testid=wizard-vm-info]");
  for (let i = 0; i < 5; i++) {
    wizard.push(await cold(browser, `/migrate?vm=${vm}`, "/migrate", "[data-testid=wizard-vm-info]"));
  }
  const row = (name, runs) => {
    console.log(`| ${name}: interactive, median / worst | ${median(runs.map((r) => r.interactive))} / ${worst(runs.map((r) => r.interactive))} ms |`);
    console.log(`| ${name}: bytes before interactive (as sent: brotli for the precompressed bundle), median | ${kib(median(runs.map((r) => r.transferred)))} |`);
  };
  row("map, cold", map);
  console.log(`| map, cold: the overview's tiles drawn, median | ${median(map.map((r) => r.shown))} ms |`);
  row("wizard (a VM chosen), cold", wizard);
  console.log(`| wizard, cold: the VM's cluster loaded, checks ready, median / worst | ${median(wizard.map((r) => r.shown))} / ${worst(wizard.map((r) => r.shown))} ms |`);

  // One cluster open (50 hosts, 900 VMs; only the columns in view are drawn): cold load until
  // its first host's VMs show, then scrolled to its end until its last host's do.
  const cluster = `/?open=${ids["cluster-025"]}`;
  const opened = [];
  await cold(browser, cluster, "/", "[data-testid=host-esx-025-000] .vm");
  for (let i = 0; i < 5; i++) opened.push(await cold(browser, cluster, "/", "[data-testid=host-esx-025-000] .vm"));
  row("map with a cluster open, cold", opened);
  console.log(`| map with a cluster open, cold: its first host's VMs drawn, median / worst | ${median(opened.map((r) => r.shown))} / ${worst(opened.map((r) => r.shown))} ms |`);
  {
    const c = await context(browser);
    const p = await c.newPage();
    await p.goto(url + cluster);
    await p.waitForSelector("body[data-ready='/']");
    await p.waitForSelector("[data-testid=host-esx-025-000] .vm");
    const nodes = await p.evaluate(() => document.querySelectorAll("[data-testid=cluster-cluster-025] *").length);
    const cards = await p.locator(".host").count();
    const scrolls = [];
    for (const [to, host] of [["el.scrollWidth", "049"], ["0", "000"], ["el.scrollWidth / 2", "023"]]) {
      const t0 = Date.now();
      await p.evaluate(`(() => { const el = document.querySelector("[data-testid=cluster-cluster-025]"); el.scrollLeft = ${to}; })()`);
      await p.waitForSelector(`[data-testid=host-esx-025-${host}] .vm`);
      scrolls.push(Date.now() - t0);
    }
    console.log(`| the open cluster: host cards drawn / DOM elements in it (of 50 hosts, 900 VMs) | ${cards} / ${nodes} |`);
    console.log(`| the open cluster scrolled to its end, back, to its middle: until the hosts there are drawn | ${scrolls.join(" / ")} ms |`);
    await c.close();
  }

  // Search as you type: each keystroke's hits (checked every animation frame), on a warm map.
  const page = await main.newPage();
  await page.goto(url + "/");
  await page.waitForSelector("body[data-ready='/']");
  await page.waitForSelector("[data-testid=live-status][data-state=live]");
  const latencies = [];
  for (const name of ["vm-012-034-017", "esx-031-022", "cluster-044", "vm-049-000-003"]) {
    for (let k = 3; k <= name.length; k++) {
      const prefix = name.slice(0, k);
      // In the page: from the input event to the DOM holding the new hits.
      latencies.push(
        await page.evaluate(
          async (p) => {
            // From an empty box (no list), so every keystroke measured changes the DOM.
            const input = document.querySelector("[data-testid=search]");
            input.value = "";
            input.dispatchEvent(new Event("input", { bubbles: true }));
            while (document.querySelector("#search-results [role=option]")) {
              await new Promise((r) => requestAnimationFrame(r));
            }
            return await new Promise((resolve) => {
              const done = () => {
                const o = document.querySelectorAll("#search-results [role=option]");
                return o.length > 0 && [...o].every((x) => x.dataset.testid.includes(p));
              };
              const t0 = performance.now();
              const observer = new MutationObserver(() => {
                if (done()) {
                  observer.disconnect();
                  resolve(Math.round(performance.now() - t0));
                }
              });
              observer.observe(document.body, { childList: true, subtree: true, attributes: true });
              input.value = p;
              input.dispatchEvent(new Event("input", { bubbles: true }));
            });
          },
          prefix,
        ),
      );
    }
  }
  console.log(`| search as you type (${latencies.length} keystrokes): from an empty box, input event → hits in the DOM, median / p95 / worst | ${median(latencies)} / ${[...latencies].sort((a, b) => a - b)[Math.floor(latencies.length * 0.95)]} / ${worst(latencies)} ms |`);
  await page.getByTestId("search").fill("");
  if (minutes === 0) {
    // Loads and search only.
    await browser.close();
    return;
  }

  // 100 migrations, slow (10 Mbit/s): two hosts of each cluster send a VM to their neighbour.
  const started = [];
  for (let c = 0; c < 50; c++) {
    for (const h of [0, 2]) {
      const cc = String(c).padStart(3, "0");
      const m = await api(main, "POST", "/api/v1/migrations", {
        vm_id: ids[`vm-${cc}-${String(h).padStart(3, "0")}-000`],
        kind: "vmotion",
        target_host_id: ids[`esx-${cc}-${String(h + 1).padStart(3, "0")}`],
        options: { bandwidth_cap_mbps: 10 },
      });
      started.push(m.id);
    }
  }

  // The live link's bytes per second per client, 60 s each: the overview, one cluster open
  // (two of the migrations in it), and the Tasks page (every migration's progress).
  async function wsRate(path, ready) {
    const c = await context(browser);
    const p = await c.newPage();
    const cdp = await c.newCDPSession(p);
    await cdp.send("Network.enable");
    let bytes = 0, frames = 0, counting = false;
    cdp.on("Network.webSocketFrameReceived", (e) => {
      if (counting) {
        bytes += e.response.payloadData.length;
        frames += 1;
      }
    });
    await p.goto(url + path);
    await p.waitForSelector(`body[data-ready='${ready}']`);
    await p.waitForSelector("[data-testid=live-status][data-state=live]");
    await p.waitForTimeout(3000);
    counting = true;
    await p.waitForTimeout(60000);
    counting = false;
    await c.close();
    return { perSecond: bytes / 60, frames: frames / 60 };
  }
  const overview = await wsRate("/", "/");
  const open = await wsRate(`/?open=${ids["cluster-007"]}`, "/");
  const tasks = await wsRate("/tasks", "/tasks");
  const ws = (name, r) =>
    console.log(`| live link, 100 migrations running, ${name} | ${(r.perSecond / 1024).toFixed(1)} KB/s (${r.frames.toFixed(1)} frames/s) |`);
  ws("overview open", overview);
  ws("one cluster open (2 of the migrations)", open);
  ws("Tasks page (every migration's progress)", tasks);

  await page.close();
  // Memory: the map open for MINUTES with the migrations running (the only page open).
  const watch = await context(browser);
  const mp = await watch.newPage();
  const cdp = await watch.newCDPSession(mp);
  await cdp.send("Performance.enable");
  await mp.goto(url + "/");
  await mp.waitForSelector("[data-testid=live-status][data-state=live]");
  const heap = async () =>
    (await cdp.send("Performance.getMetrics")).metrics.find((m) => m.name === "JSHeapUsedSize").value;
  const before = { heap: await heap(), r: renderers() };
  await mp.waitForTimeout(minutes * 60000);
  const after = { heap: await heap(), r: renderers() };
  console.log(`| the map open ${minutes} min, migrations running: JS heap at start / end | ${(before.heap / 1048576).toFixed(1)} / ${(after.heap / 1048576).toFixed(1)} MiB |`);
  console.log(`| the same: Chromium's renderer processes (${after.r.count}), PSS at start / end | ${before.r.pss} / ${after.r.pss} MiB (RSS ${before.r.rss} / ${after.r.rss} MiB) |`);
  await watch.close();
  for (const id of started) {
    await main.request.fetch(`${url}/api/v1/migrations/${id}/cancel`, { method: "POST" });
  }

  // Churn: 100 moves always in flight, each ~40 s (2 Gbit/s), a new one started as soon as one
  // ends (the VM back to where it came from): the overview's live link while moves start,
  // change phase and complete all the time.
  const slots = [];
  for (let c = 0; c < 50; c++) {
    for (const h of [4, 6]) {
      const cc = String(c).padStart(3, "0");
      const host = (k) => ids[`esx-${cc}-${String(k).padStart(3, "0")}`];
      slots.push({ vm: ids[`vm-${cc}-${String(h).padStart(3, "0")}-000`], hosts: [host(h), host(h + 1)], at: 0, id: null });
    }
  }
  let completed = 0, keeping = true;
  const startSlot = async (s) => {
    s.at = 1 - s.at;
    const m = await api(main, "POST", "/api/v1/migrations", {
      vm_id: s.vm,
      kind: "vmotion",
      target_host_id: s.hosts[s.at],
      options: { bandwidth_cap_mbps: 2000 },
    });
    s.id = m.id;
  };
  for (const s of slots) await startSlot(s);
  const keeper = (async () => {
    while (keeping) {
      await new Promise((r) => setTimeout(r, 1000));
      const all = await api(main, "GET", "/api/v1/migrations");
      const state = new Map(all.map((m) => [m.id, m.state]));
      for (const s of slots) {
        const st = state.get(s.id);
        if (keeping && st !== "queued" && st !== "running") {
          if (st === "completed") completed += 1;
          await startSlot(s);
        }
      }
    }
  })();
  // Past the first wave's start, into the steady churn.
  await new Promise((r) => setTimeout(r, 45000));
  const before0 = completed;
  const churn = await wsRate("/", "/");
  const ended = completed - before0;
  ws(`overview open, churn (${ended} moves completed and as many started in the ~65 s measured)`, churn);
  keeping = false;
  await keeper;
  for (const s of slots) {
    await main.request.fetch(`${url}/api/v1/migrations/${s.id}/cancel`, { method: "POST" });
  }
  await browser.close();
})();
