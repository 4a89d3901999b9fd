// Fleet dashboard: reads the manager's API with the fleet token (kept in sessionStorage) and
// follows /api/events/stream for live updates. No external assets, no inline script.
"use strict";

const tokenKey = "panguard.fleetToken";
const $ = (id) => document.getElementById(id);
let streamAbort = null;
let refreshTimer = null;

function headers() {
  const token = sessionStorage.getItem(tokenKey);
  return token ? { Authorization: "Bearer " + token } : {};
}

async function api(path) {
  const r = await fetch(path, { headers: headers(), cache: "no-store" });
  if (r.status === 401 || r.status === 403) throw new Error("unauthorized");
  const body = await r.json();
  if (!body.ok) throw new Error(body.error || ("HTTP " + r.status));
  return body.data;
}

function text(el, value) { el.textContent = value === null || value === undefined ? "-" : String(value); }

function cell(row, value, cls) {
  const td = document.createElement("td");
  text(td, value);
  if (cls) td.className = cls;
  row.appendChild(td);
}

function ago(iso) {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return s + " s ago";
  if (s < 3600) return Math.round(s / 60) + " min ago";
  return Math.round(s / 3600) + " h ago";
}

function drawChart(points) {
  const svg = $("chart");
  svg.replaceChildren();
  const max = Math.max(1, ...points.map((p) => p.count));
  const width = 720 / points.length;
  const ns = "http://www.w3.org/2000/svg";
  points.forEach((p, i) => {
    const h = Math.round((p.count / max) * 130);
    const rect = document.createElementNS(ns, "rect");
    rect.setAttribute("x", String(i * width + 2));
    rect.setAttribute("y", String(140 - h));
    rect.setAttribute("width", String(width - 4));
    rect.setAttribute("height", String(h));
    const title = document.createElementNS(ns, "title");
    title.textContent = p.start + ": " + p.count;
    rect.appendChild(title);
    svg.appendChild(rect);
    if (i % 4 === 0) {
      const label = document.createElementNS(ns, "text");
      label.setAttribute("x", String(i * width + 2));
      label.setAttribute("y", "155");
      label.textContent = p.start.slice(11, 16);
      svg.appendChild(label);
    }
  });
}

async function refresh() {
  const [overview, agents, threats] = await Promise.all([
    api("/api/overview"), api("/api/agents?limit=200"), api("/api/threats?limit=20")]);
  text($("total"), overview.totalAgents);
  text($("online"), overview.onlineAgents);
  text($("stale"), overview.staleAgents);
  text($("offline"), overview.offlineAgents);
  text($("threats24"), overview.threatSummary.last24h);
  text($("threats7"), overview.threatSummary.last7d);
  text($("policy"), overview.activePolicyVersion);
  drawChart(overview.threatTimeline);

  const agentRows = $("agents").tBodies[0];
  agentRows.replaceChildren();
  for (const a of agents) {
    const row = document.createElement("tr");
    row.dataset.agentId = a.agentId;
    cell(row, a.hostname);
    cell(row, a.status, "status-" + a.status);
    cell(row, a.platform.os + " / " + a.platform.arch);
    cell(row, a.version);
    cell(row, ago(a.lastHeartbeat));
    agentRows.appendChild(row);
  }
  const threatRows = $("threats").tBodies[0];
  threatRows.replaceChildren();
  for (const t of threats) {
    const row = document.createElement("tr");
    cell(row, ago(t.timestamp));
    cell(row, t.severity, "sev-" + t.severity);
    cell(row, t.category);
    cell(row, t.agentId);
    threatRows.appendChild(row);
  }
}

function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => refresh().catch(showError), 250);
}

function addEvent(type, data) {
  const li = document.createElement("li");
  li.dataset.type = type;
  li.textContent = new Date().toLocaleTimeString() + "  " + type + "  " + data;
  $("events").prepend(li);
  while ($("events").children.length > 100) $("events").lastChild.remove();
}

// Server-sent events over fetch, so the token travels in a header rather than the URL;
// reconnects with Last-Event-ID after a drop.
async function follow(lastId) {
  streamAbort = new AbortController();
  const h = Object.assign({ Accept: "text/event-stream" }, headers());
  if (lastId) h["Last-Event-ID"] = lastId;
  let retry = 3000;
  try {
    const r = await fetch("/api/events/stream", { headers: h, signal: streamAbort.signal, cache: "no-store" });
    if (!r.ok) throw new Error("stream HTTP " + r.status);
    $("live").textContent = "live";
    $("live").className = "badge on";
    const reader = r.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let type = "message", data = "", id = null;
        for (const line of block.split("\n")) {
          if (line.startsWith("event: ")) type = line.slice(7);
          else if (line.startsWith("data: ")) data += line.slice(6);
          else if (line.startsWith("id: ")) id = line.slice(4);
          else if (line.startsWith("retry: ")) retry = parseInt(line.slice(7), 10) || retry;
        }
        if (id) lastId = id;
        if (!data) continue;
        if (type !== "connected") {
          addEvent(type, data);
          scheduleRefresh();
        }
      }
    }
  } catch (e) {
    if (streamAbort.signal.aborted) return;
  }
  $("live").textContent = "reconnecting";
  $("live").className = "badge off";
  setTimeout(() => follow(lastId), retry);
}

function showError(e) {
  if (String(e.message) === "unauthorized") {
    sessionStorage.removeItem(tokenKey);
    showLogin("The fleet token was not accepted.");
  } else {
    addEvent("error", e.message);
  }
}

function showLogin(message) {
  if (streamAbort) streamAbort.abort();
  $("dashboard").hidden = true;
  $("signout").hidden = true;
  $("login").hidden = false;
  text($("login-error"), message || "");
}

async function open() {
  try {
    await refresh();
  } catch (e) {
    return showError(e);
  }
  $("login").hidden = true;
  $("dashboard").hidden = false;
  $("signout").hidden = false;
  follow(null);
}

$("login").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(tokenKey, $("token").value.trim());
  open();
});
$("signout").addEventListener("click", () => {
  sessionStorage.removeItem(tokenKey);
  showLogin();
});

// A sign-in link (/dashboard#token=..., logged by a manager that generated its token) carries
// the token in the fragment, which browsers never send; it is moved to this tab's storage at once.
const linked = new URLSearchParams(location.hash.slice(1)).get("token");
if (linked) {
  sessionStorage.setItem(tokenKey, linked);
  history.replaceState(null, "", location.pathname + location.search);
}

if (sessionStorage.getItem(tokenKey)) open();
else showLogin();
