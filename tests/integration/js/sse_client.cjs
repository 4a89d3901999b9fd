// Independent SSE client (npm eventsource): connects with the fleet token in a header, prints
// each event as a JSON line {type, id, data}, stops after `count` events or `seconds`.
// Usage: NODE_EXTRA_CA_CERTS=cert.pem node sse_client.mjs URL TOKEN COUNT SECONDS [LAST_EVENT_ID]
const { EventSource } = require("eventsource");

const [url, token, count, seconds, lastEventId] = process.argv.slice(2);
let seen = 0;
const es = new EventSource(url, {
  fetch: (input, init) => {
    const headers = Object.assign({}, init.headers, { Authorization: `Bearer ${token}` });
    if (lastEventId) headers["Last-Event-ID"] = lastEventId;
    return fetch(input, Object.assign({}, init, { headers }));
  },
});
const types = ["connected", "agent_online", "agent_stale", "agent_offline", "threats_reported",
               "threat_correlated", "policy_created"];
for (const type of types) {
  es.addEventListener(type, (e) => {
    console.log(JSON.stringify({ type, id: e.lastEventId, data: JSON.parse(e.data) }));
    if (++seen >= Number(count)) { es.close(); process.exit(0); }
  });
}
es.onerror = (e) => { if (e && e.code) console.error(`error ${e.code} ${e.message || ""}`); };
setTimeout(() => { es.close(); process.exit(0); }, Number(seconds) * 1000);
