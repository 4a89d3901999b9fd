// Headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by playwright-core,
// with nothing reaching out to the network on its own.
const { chromium } = require("playwright-core");

exports.launch = () => chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"],
});
