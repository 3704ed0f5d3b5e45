// Page weight and time to first interaction on the demo (BENCHMARKS.md):
//   node tests/e2e/page-bench.mjs [RUNS]
// with DAUYS_BIN (default target/release/dauys). For each of two profiles,
// a desktop and an emulated phone (CPU 4x slower, 1.6 Mbit/s down with
// 150 ms round trips, 360 px), it loads the page RUNS times in a fresh
// context and reports medians: bytes on the wire and uncompressed, first
// contentful paint, when the page answers input (its script has run: the
// menus and links work while the wasm still downloads), when the whole page
// is loaded, when the petitions are verified on the device, and what
// locking and unlocking the citizen's key costs (argon2id).
import { join } from "node:path";
import { launch, root, startDemo } from "./harness.js";

process.env.DAUYS_BIN = process.env.DAUYS_BIN || join(root, "target", "release", "dauys");
const runs = Number(process.argv[2] || 5);
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const demo = await startDemo();
const browser = await launch();
const profiles = {
  desktop: { viewport: { width: 1280, height: 800 } },
  phone: { viewport: { width: 360, height: 780 }, isMobile: true, hasTouch: true, cpu: 4, network: { latency: 150, downloadThroughput: 200_000, uploadThroughput: 94_000 } },
};
for (const [name, profile] of Object.entries(profiles)) {
  const rows = [];
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext({ viewport: profile.viewport, isMobile: profile.isMobile, hasTouch: profile.hasTouch });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    if (profile.cpu) await cdp.send("Emulation.setCPUThrottlingRate", { rate: profile.cpu });
    if (profile.network) {
      await cdp.send("Network.enable");
      await cdp.send("Network.emulateNetworkConditions", { offline: false, ...profile.network });
    }
    let wire = 0, raw = 0;
    page.on("requestfinished", async (request) => {
      if (new URL(request.url()).pathname !== "/") return;
      const sizes = await request.sizes();
      wire = sizes.responseBodySize + sizes.responseHeadersSize;
      raw = Number((await request.response()).headers()["content-length"] || 0);
    });
    const started = Date.now();
    await page.goto(demo.url + "/", { waitUntil: "domcontentloaded" });
    await page.waitForSelector("#state-line[data-state=valid]", { timeout: 300_000 });
    const verifiedAt = Date.now() - started;
    const timing = await page.evaluate(() => {
      const nav = performance.getEntriesByType("navigation")[0];
      const fcp = performance.getEntriesByName("first-contentful-paint")[0];
      const ready = performance.getEntriesByName("dauys-interactive")[0];
      return { fcp: fcp ? fcp.startTime : 0, interactive: ready ? ready.startTime : NaN, loaded: nav.domContentLoadedEventEnd, decoded: nav.decodedBodySize, transfer: nav.transferSize };
    });
    const key = await page.evaluate(() => window.dauys.keyCost());
    rows.push({ wire: timing.transfer || wire, raw: timing.decoded || raw, fcp: timing.fcp, interactive: timing.interactive, loaded: timing.loaded, verified: verifiedAt, lock: key.lock, unlock: key.unlock });
    await context.close();
  }
  const m = (k) => median(rows.map((r) => r[k]));
  console.log(`${name}: page ${(m("raw") / 1024).toFixed(0)} KiB, ${(m("wire") / 1024).toFixed(0)} KiB on the wire (gzip); ` +
    `first contentful paint ${m("fcp").toFixed(0)} ms, interactive (menus and links answer) ${m("interactive").toFixed(0)} ms, ` +
    `whole page loaded (DOMContentLoaded) ${m("loaded").toFixed(0)} ms, ` +
    `petitions verified on the device ${m("verified").toFixed(0)} ms; the key: lock ${m("lock").toFixed(0)} ms, unlock ${m("unlock").toFixed(0)} ms (median of ${runs})`);
}
await browser.close();
demo.stop();
