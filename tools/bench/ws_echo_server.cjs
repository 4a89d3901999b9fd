// The reference: npm ws's echo server (text as text, binary as binary), on 127.0.0.1:PORT.
// Usage: node ws_echo_server.cjs PORT
const { WebSocketServer } = require("ws");

const wss = new WebSocketServer({ host: "127.0.0.1", port: Number(process.argv[2]), path: "/ws/echo" });
wss.on("connection", (ws) => ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary })));
wss.on("listening", () => console.log("listening"));
