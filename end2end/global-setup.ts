// Waits until the server answers /healthz (cargo leptos starts the tests right after the
// server process, before it listens).
export default async function globalSetup() {
  const base = process.env.VMSHIFT_URL ?? "http://127.0.0.1:3000";
  const deadline = Date.now() + 120_000;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.ok) return;
      last = `status ${res.status}`;
    } catch (e) {
      last = String(e);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`vmshift did not start at ${base}: ${last}`);
}
