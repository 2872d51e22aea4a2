import { request } from "@playwright/test";

/** Where the admin's signed-in browser state is kept for the tests. */
export const ADMIN_STATE = "test-results/admin-state.json";

// Waits until the server answers /healthz (cargo leptos starts the tests right after the
// server process, before it listens), then signs in as the admin once and keeps the session
// cookie for every test (the server was started with VMSHIFT_ADMIN_PASSWORD).
export default async function globalSetup() {
  const base = process.env.VMSHIFT_URL ?? "http://127.0.0.1:3000";
  const deadline = Date.now() + 120_000;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.ok) break;
      last = `status ${res.status}`;
    } catch (e) {
      last = String(e);
    }
    await new Promise((r) => setTimeout(r, 250));
    if (Date.now() >= deadline) throw new Error(`vmshift did not start at ${base}: ${last}`);
  }
  const api = await request.newContext({ baseURL: base });
  const res = await api.post("/api/v1/session", {
    data: { username: "admin", password: process.env.VMSHIFT_ADMIN_PASSWORD ?? "" },
  });
  if (!res.ok()) throw new Error(`the admin cannot sign in: ${res.status()} ${await res.text()}`);
  await api.storageState({ path: ADMIN_STATE });
  await api.dispose();
}
