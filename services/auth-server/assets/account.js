// The pages mail links open: they read the token from the link and finish the job through
// the API (POST /api/auth/verify-email, POST /api/auth/reset-password). No inline script.
"use strict";

const $ = (id) => document.getElementById(id);
// One page for both links: /verify-email or /reset-password picks the part to show.
const page = location.pathname === "/reset-password" ? "reset-password" : "verify-email";
$(page).hidden = false;
document.title = $(page).querySelector("h1").textContent + " - Panguard";
const token = new URLSearchParams(location.search).get("token") || "";
// The token leaves the address bar and the history as soon as it is read.
history.replaceState(null, "", location.pathname);

function show(text, kind) {
  $("status").textContent = text;
  $("status").className = kind || "";
}

async function call(path, body) {
  const r = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
    cache: "no-store",
  });
  let answer = {};
  try {
    answer = await r.json();
  } catch (e) {
    answer = {};
  }
  if (!r.ok || !answer.ok) throw new Error(answer.error || "the server answered " + r.status);
  return answer.data;
}

async function verify() {
  show("Confirming your address...");
  try {
    await call("/api/auth/verify-email", { token });
    show("Your email address is confirmed. You can close this page.", "done");
  } catch (e) {
    show("The address could not be confirmed: " + e.message + ". The link may have been used or expired.", "error");
  }
}

function offerReset() {
  const form = $("reset");
  form.hidden = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if ($("password").value !== $("repeat").value) return show("The two passwords differ.", "error");
    form.querySelector("button").disabled = true;
    try {
      await call("/api/auth/reset-password", { token, password: $("password").value });
      form.hidden = true;
      show("Your password has been changed and every session signed out. Sign in with the new password.", "done");
    } catch (e) {
      form.querySelector("button").disabled = false;
      show("The password was not changed: " + e.message + ".", "error");
    }
  });
}

if (!token) show("This link carries no token. Open the link from the mail again.", "error");
else if (page === "verify-email") verify();
else offerReset();
