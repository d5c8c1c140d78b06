// The demo page's script (a file: the page's policy allows no inline script), on the
// JavaScript client (clients/js, built to login-client.js beside this file by `make worker`).
import { createLoginClient, LoginApiError } from "./login-client.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
$("api").value = params.get("api") || location.origin;
// Messages in the browser's languages, as a frontend would ask for them (the worker
// answers in English where en comes before zh, and in Chinese otherwise).
$("lang").value = (navigator.languages || [navigator.language]).filter(Boolean).join(", ") || "zh-CN";

// The session lives in this page's memory; a new base URL or language makes a new client
// over the same storage (the old one closed), so the session stays.
const memory = new Map();
const storage = { get: (key) => memory.get(key), set: (key, value) => memory.set(key, value), remove: (key) => memory.delete(key) };
let client;
function makeClient() {
  client?.close();
  client = createLoginClient({ baseUrl: $("api").value, language: $("lang").value, storage });
  client.onSessionChange((event, session) => showTokens(session));
}
makeClient();
$("api").onchange = makeClient;
$("lang").onchange = makeClient;

function showTokens(session) {
  $("tokens").textContent = session
    ? "jwt: " + session.jwt.slice(0, 24) + "…  refresh_jwt: " + session.refresh_jwt.slice(0, 24) + "…"
    : "No session yet.";
}

// With TURNSTILE_SITE_KEY set, the worker writes the key into the page and every send
// needs a Turnstile token: the widget gives one (single-use), which goes with the send.
const siteKey = document.querySelector('meta[name="turnstile-site-key"]').content;
let turnstileToken = "";
if (siteKey) {
  window.onTurnstileLoad = () => {
    window.turnstile.render("#turnstile", { sitekey: siteKey, callback: (token) => { turnstileToken = token; } });
  };
  const script = document.createElement("script");
  script.src = "https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit&onload=onTurnstileLoad";
  document.head.appendChild(script);
}
function withTurnstile(body) {
  if (!siteKey) return body;
  const token = turnstileToken;
  turnstileToken = "";
  if (window.turnstile) window.turnstile.reset("#turnstile");
  return { ...body, turnstile_token: token };
}

// Runs one client call and shows its answer as an envelope: the data of a success, or the
// refusal's code and message with the HTTP status. Resolves to that envelope.
async function call(path, action) {
  const started = performance.now();
  let envelope;
  let text;
  try {
    envelope = { code: 200, data: await action() };
    text = JSON.stringify(envelope, null, 2);
  } catch (error) {
    if (error instanceof LoginApiError) {
      envelope = { code: error.code, msg: error.msg, data: [] };
      text = "HTTP " + error.httpStatus + "\n" + JSON.stringify(envelope, null, 2);
    } else {
      envelope = { code: 0, msg: String(error), data: [] };
      // The page's policy lets it call only its own origin and the origins the worker
      // allows (CORS_ALLOWED_ORIGINS), so a ?api= naming another fails here too.
      text = "request failed: " + error + "\n(this page may call only its own origin and those on the"
        + " worker's CORS_ALLOWED_ORIGINS)";
    }
  }
  const ms = Math.round(performance.now() - started);
  $("last").textContent = "POST " + path + " (" + ms + " ms)\n" + text;
  $("last").className = envelope.code === 200 ? "ok" : "error";
  $("history").textContent = "POST " + path + " → " + envelope.code + " " + (envelope.msg || "ok") + "\n"
    + $("history").textContent;
  return envelope;
}

// A send; only a development server (EXPOSE_SMS_CODE=true) answers with the code, which
// goes into the field given.
async function sendCode(body, field) {
  const envelope = await call("/login/send/sms", () => client.sendCode(withTurnstile(body)));
  if (envelope.code === 200 && envelope.data.code) $(field).value = envelope.data.code;
}

$("send").onclick = () => sendCode({ phone: $("phone").value }, "code");
$("register").onclick = () => call("/login/register", () => client.register({
  account: $("account").value, password: $("password").value,
  password_confirmation: $("password").value, phone: $("phone").value, code: $("code").value,
}));
// The client keeps the session it signs in with, and refreshes it when it is due.
$("login").onclick = () => call("/login/jwt/get", () => client.logIn({ account: $("account").value, pwd: $("password").value }));
$("status").onclick = () => call("/login/jwt/status", () => client.status());
$("refresh").onclick = () => call("/login/jwt/refresh", () => client.refresh());
$("deactivate").onclick = () => call("/login/jwt/deactivate", () => client.deactivate());
// Both end every session; the new password is the one to log in with from now on.
function usePassword(envelope) {
  if (envelope.code === 200) $("password").value = $("new-password").value;
}
$("change").onclick = async () => usePassword(await call("/login/password/change", () => client.changePassword({
  pwd: $("password").value, password: $("new-password").value, password_confirmation: $("new-password").value,
})));
$("send-reset").onclick = () => sendCode({ phone: $("phone").value, purpose: "reset" }, "reset-code");
$("reset").onclick = async () => usePassword(await call("/login/password/reset", () => client.resetPassword({
  phone: $("phone").value, code: $("reset-code").value,
  password: $("new-password").value, password_confirmation: $("new-password").value,
})));
$("send-login").onclick = () => sendCode({ phone: $("phone").value, purpose: "login" }, "login-code");
$("sms-login").onclick = async () => {
  const envelope = await call("/login/jwt/sms", () => client.logInWithCode({ phone: $("phone").value, code: $("login-code").value }));
  // A sign-in that made the user names its generated account.
  if (envelope.code === 200 && envelope.data.account) $("account").value = envelope.data.account;
};

// Your devices: each session as a line of text (a User-Agent is the client's own text:
// it goes in as text, never as markup), with a button that ends it by its id.
function showDevices(sessions) {
  const list = $("device-list");
  list.replaceChildren();
  for (const device of sessions) {
    const item = document.createElement("li");
    item.textContent = (device.current ? "this session — " : "") + (device.user_agent || "(no User-Agent)")
      + ", " + (device.address || "?") + " " + device.country + ", since " + device.created_date
      + ", last used " + device.last_used_date + " ";
    if (!device.current) {
      const end = document.createElement("button");
      end.className = "secondary";
      end.textContent = "End";
      end.dataset.sid = device.sid;
      end.onclick = async () => {
        const envelope = await call("/login/jwt/deactivate", () => client.deactivate({ sid: device.sid }));
        if (envelope.code === 200) item.remove();
      };
      item.append(end);
    }
    list.append(item);
  }
}
$("devices").onclick = async () => {
  const envelope = await call("/login/sessions/list", () => client.listSessions());
  showDevices(envelope.code === 200 ? envelope.data : []);
};
$("end-others").onclick = async () => {
  const envelope = await call("/login/jwt/deactivate", () => client.deactivate({ scope: "others" }));
  if (envelope.code === 200) $("device-list").replaceChildren();
};
// A new number: its code is bound to this session's user, and the change needs the
// password too (an account without one, a sign-in of the last 10 minutes: leave it empty).
$("send-change").onclick = () => sendCode({ phone: $("new-phone").value, purpose: "change_phone" }, "change-code");
$("change-phone").onclick = async () => {
  const envelope = await call("/login/phone/change", () => client.changePhone({
    phone: $("new-phone").value, code: $("change-code").value, pwd: $("password").value || undefined,
  }));
  // The account's phone is the new one from now on: sign-in and reset codes go there.
  if (envelope.code === 200) { $("phone").value = $("new-phone").value; $("device-list").replaceChildren(); }
};
// Deleting takes a tick in the box first: the confirmation.
$("confirm-delete").onchange = () => { $("delete-account").disabled = !$("confirm-delete").checked; };
$("delete-account").onclick = async () => {
  const envelope = await call("/login/account/delete", () => client.deleteAccount({ pwd: $("password").value }));
  $("confirm-delete").checked = false;
  $("delete-account").disabled = true;
  // Every session ended with it.
  if (envelope.code === 200) $("device-list").replaceChildren();
};
