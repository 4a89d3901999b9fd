// Opens a link the way a person would (headless Chromium: Debian's /usr/bin/chromium, driven
// by playwright-core) and does what the page asks, then prints a JSON result.
// Usage: node open_link.cjs URL MODE [PASSWORD]
//   dashboard: a /dashboard#token=... sign-in link; waits for the fleet overview
//   verify:    an email verification link; waits for the page's verdict
//   reset:     a password reset link; enters PASSWORD twice, submits, waits for the verdict
const { launch } = require("./browser.cjs");

const [url, mode, password] = process.argv.slice(2);

(async () => {
  const browser = await launch();
  const result = { errors: [], requests: [] };
  try {
    const page = await browser.newPage();
    page.on("pageerror", (e) => result.errors.push(String(e)));
    page.on("console", (m) => { if (m.type() === "error") result.errors.push(m.text()); });
    page.on("request", (r) => result.requests.push({ url: r.url(), referer: r.headers()["referer"] || null }));
    await page.goto(url);
    if (mode === "dashboard") {
      await page.waitForSelector("#dashboard:not([hidden])", { timeout: 15000 });
      await page.waitForFunction(() => document.querySelector("#total").textContent !== "-", null, { timeout: 15000 });
      result.total = await page.textContent("#total");
      result.stored = await page.evaluate(() => sessionStorage.getItem("panguard.fleetToken"));
    } else {
      if (mode === "reset") {
        await page.waitForSelector("#reset:not([hidden])");
        await page.fill("#password", password);
        await page.fill("#repeat", password);
        await page.click("#reset button[type=submit]");
      }
      await page.waitForSelector("#status.done, #status.error", { timeout: 15000 });
      result.status = await page.getAttribute("#status", "class");
      result.text = await page.textContent("#status");
    }
    result.location = page.url();
    result.ok = true;
  } catch (e) {
    result.failure = String(e);
  } finally {
    await browser.close();
    console.log(JSON.stringify(result));
  }
})();
