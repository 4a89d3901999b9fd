// Independent WebSocket client (npm ws): echo of text, binary and a fragmented message, a
// ping, a normal close; prints one JSON line with what came back.
// Usage: node ws_echo_check.cjs URL [CA_FILE]
const fs = require("fs");
const WebSocket = require("ws");

const [url, caFile] = process.argv.slice(2);
const ws = new WebSocket(url, caFile ? { ca: fs.readFileSync(caFile) } : {});
const result = {};
const replies = [];
let waiting = null;
ws.on("message", (data, isBinary) => {
  replies.push({ data, isBinary });
  if (waiting) waiting();
});
const next = () => new Promise((resolve) => {
  if (replies.length) return resolve(replies.shift());
  waiting = () => { waiting = null; resolve(replies.shift()); };
});
setTimeout(() => { console.error("timed out"); process.exit(1); }, 30000);
ws.on("error", (e) => { console.error(e.message); process.exit(1); });
ws.on("open", async () => {
  ws.send("from node");
  result.text = (await next()).data.toString();
  ws.send(Buffer.from([1, 2, 3, 250]), { binary: true });
  const bin = await next();
  result.binary = bin.isBinary ? [...bin.data] : null;
  ws.send("a", { fin: false });
  ws.send("b", { fin: false });
  ws.send("c", { fin: true });
  result.fragmented = (await next()).data.toString();
  result.pong = await new Promise((resolve) => { ws.once("pong", () => resolve(true)); ws.ping(); });
  ws.on("close", (code) => {
    result.close_code = code;
    console.log(JSON.stringify(result));
    process.exit(0);
  });
  ws.close(1000, "done");
});
