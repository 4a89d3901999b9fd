// Opens each service's Swagger UI page in headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core), expands GET /health, clicks "Try it out" and "Execute", and
// reports the status Swagger UI shows, the URL it called and any console or page errors
// (a Content-Security-Policy refusal shows up there).
// Usage: node swagger_try.cjs DOCS_URL...     Prints a JSON array, one result per page.
const { chromium } = require("playwright-core");

async function tryHealth(browser, docsUrl) {
  const result = { docsUrl, errors: [], calls: [] };
  const context = await browser.newContext({ ignoreHTTPSErrors: true });  // manager's self-signed certificate
  try {
    const page = await context.newPage();
    page.on("pageerror", (e) => result.errors.push(String(e)));
    // Failed loads are reported by URL below (the browser's own favicon request may 404).
    page.on("console", (m) => {
      if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) result.errors.push(m.text());
    });
    page.on("response", (r) => {
      if (r.status() >= 400 && new URL(r.url()).pathname !== "/favicon.ico") result.errors.push(`${r.status()} ${r.url()}`);
    });
    page.on("request", (r) => { if (new URL(r.url()).pathname === "/health") result.calls.push(r.url()); });
    await page.goto(docsUrl);
    const op = page.locator(".opblock-get").filter({ has: page.locator('.opblock-summary-path[data-path="/health"]') }).first();
    await op.locator(".opblock-summary").click();
    await op.locator("button.try-out__btn").click();
    await op.locator("button.execute").click();
    const status = op.locator(".live-responses-table .response .response-col_status").first();
    await status.waitFor({ timeout: 15000 });
    result.status = (await status.textContent()).trim();
    result.body = (await op.locator(".live-responses-table .response-col_description pre").first()
      .textContent({ timeout: 5000 })).trim();
  } catch (e) {
    result.errors.push(String(e));
  } finally {
    await context.close();
  }
  return result;
}

(async () => {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  const results = [];
  try {
    for (const url of process.argv.slice(2)) results.push(await tryHealth(browser, url));
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(results) + "\n");
})();
