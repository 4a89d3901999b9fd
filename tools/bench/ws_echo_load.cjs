// WebSocket echo load (npm ws clients): CONNECTIONS connections, each sending a SIZE-byte
// text message and waiting for its echo before the next (closed loop), for SECONDS after a
// one-second warm-up. Prints {messages_per_s, p50_ms, p99_ms, errors} as one JSON line.
// Usage: node ws_echo_load.cjs URL CONNECTIONS SECONDS SIZE
const WebSocket = require("ws");

const [url, connections, seconds, size] = process.argv.slice(2).map((v, i) => (i ? Number(v) : v));
const payload = "x".repeat(size);
const samples = [];
let errors = 0;
let measuring = false;
let stopped = false;

function client() {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    let sentAt = 0;
    const send = () => { sentAt = process.hrtime.bigint(); ws.send(payload); };
    ws.on("open", send);
    ws.on("message", () => {
      if (measuring) samples.push(Number(process.hrtime.bigint() - sentAt) / 1e6);
      if (stopped) { ws.close(); return; }
      send();
    });
    ws.on("error", () => { errors++; resolve(); });
    ws.on("close", resolve);
  });
}

const all = Array.from({ length: connections }, client);
setTimeout(() => { measuring = true; }, 1000);
setTimeout(() => {
  measuring = false;
  stopped = true;
  const sorted = samples.slice().sort((a, b) => a - b);
  const q = (p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : null);
  console.log(JSON.stringify({ messages_per_s: samples.length / seconds, p50_ms: q(0.5), p99_ms: q(0.99), errors }));
  Promise.race([Promise.all(all), new Promise((r) => setTimeout(r, 2000))]).then(() => process.exit(0));
}, 1000 + seconds * 1000);
