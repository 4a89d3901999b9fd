// Opens the fleet dashboard in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core), signs in with the token, waits for live data, then waits for a live
// update triggered by the test through a file flag, and saves a screenshot.
// Usage: node dashboard.mjs BASE_URL TOKEN SCREENSHOT TRIGGER_FILE DONE_FILE
const { writeFileSync } = require("node:fs");
const { launch } = require("./browser.cjs");

const [base, token, screenshot, triggerFile, doneFile] = process.argv.slice(2);

(async () => {
const browser = await launch();
const result = { errors: [], requests: [] };
try {
  const page = await browser.newPage({ ignoreHTTPSErrors: false });
  page.on("pageerror", (e) => result.errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") result.errors.push(m.text()); });
  page.on("request", (r) => result.requests.push(r.url()));
  await page.goto(base + "/dashboard");
  await page.waitForSelector("#login:not([hidden])");
  await page.fill("#token", token);
  await page.click("#login button[type=submit]");
  await page.waitForSelector("#dashboard:not([hidden])");
  await page.waitForFunction(() => document.querySelector("#total").textContent !== "-");
  await page.waitForSelector("#live.on", { timeout: 10000 });
  result.total = await page.textContent("#total");
  result.agentRows = await page.$$eval("#agents tbody tr", (rows) => rows.length);
  result.threatRows = await page.$$eval("#threats tbody tr", (rows) => rows.length);
  result.chartBars = await page.$$eval("#chart rect", (r) => r.length);
  // Ask the test to cause an event, then wait for it to show up live.
  writeFileSync(triggerFile, "go");
  await page.waitForSelector("#events li[data-type=agent_online]", { timeout: 15000 });
  await page.waitForSelector("#events li[data-type=threats_reported]", { timeout: 15000 });
  await page.waitForFunction((n) => document.querySelectorAll("#threats tbody tr").length === n,
                             result.threatRows + 1, { timeout: 10000 });
  result.threatRowsAfter = await page.$$eval("#threats tbody tr", (rows) => rows.length);
  await page.waitForFunction((n) => Number(document.querySelector("#total").textContent) === n,
                             Number(result.total) + 1, { timeout: 10000 });
  result.totalAfter = await page.textContent("#total");
  await page.screenshot({ path: screenshot, fullPage: true });
  result.ok = true;
} catch (e) {
  result.failure = String(e);
} finally {
  await browser.close();
  writeFileSync(doneFile, JSON.stringify(result));
}
})();
