// The demo page's script (a file: the page's policy allows no inline script).
"use strict";
const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
$("api").value = params.get("api") || location.origin;
// Messages in the browser's languages, as a frontend would ask for them (the worker
// answers in English where en comes before zh, and in Chinese otherwise).
$("lang").value = (navigator.languages || [navigator.language]).filter(Boolean).join(", ") || "zh-CN";
const signedOut = { jwt: "", refresh_jwt: "" };
let session = signedOut;

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

function showTokens() {
  $("tokens").textContent = session.jwt
    ? "jwt: " + session.jwt.slice(0, 24) + "…  refresh_jwt: " + session.refresh_jwt.slice(0, 24) + "…"
    : "No session yet.";
}

async function call(path, body) {
  const started = performance.now();
  let text;
  let envelope;
  try {
    const response = await fetch($("api").value.replace(/\/$/, "") + path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept-Language": $("lang").value },
      body: JSON.stringify(body),
    });
    envelope = await response.json();
    text = "HTTP " + response.status + "\n" + JSON.stringify(envelope, null, 2);
  } catch (error) {
    envelope = { code: 0, msg: String(error), status: false, data: [] };
    // The page's policy lets it call only its own origin and the origins the worker
    // allows (CORS_ALLOWED_ORIGINS), so a ?api= naming another fails here too.
    text = "request failed: " + error + "\n(this page may call only its own origin and those on the"
      + " worker's CORS_ALLOWED_ORIGINS)";
  }
  const ms = Math.round(performance.now() - started);
  $("last").textContent = "POST " + path + " (" + ms + " ms)\n" + text;
  $("last").className = envelope.code === 200 ? "ok" : "error";
  $("history").textContent = "POST " + path + " → " + envelope.code + " " + envelope.msg + "\n" + $("history").textContent;
  return envelope;
}

$("send").onclick = async () => {
  const envelope = await call("/login/send/sms", withTurnstile({ phone: $("phone").value }));
  // Only a development server (EXPOSE_SMS_CODE=true) returns the code; fill it in.
  if (envelope.code === 200 && envelope.data && envelope.data.code) $("code").value = envelope.data.code;
};
$("register").onclick = () => call("/login/register", {
  account: $("account").value, password: $("password").value,
  password_confirmation: $("password").value, phone: $("phone").value, code: $("code").value,
});
$("login").onclick = async () => {
  const envelope = await call("/login/jwt/get", { account: $("account").value, pwd: $("password").value });
  if (envelope.code === 200) { session = envelope.data; showTokens(); }
};
$("status").onclick = () => call("/login/jwt/status", { jwt: session.jwt });
$("refresh").onclick = async () => {
  const envelope = await call("/login/jwt/refresh", { jwt: session.refresh_jwt });
  if (envelope.code !== 200) return;
  // A new access token, or with REFRESH_ROTATION a new pair.
  session = typeof envelope.data === "string" ? { ...session, jwt: envelope.data } : envelope.data;
  showTokens();
};
$("deactivate").onclick = async () => {
  const envelope = await call("/login/jwt/deactivate", { jwt: session.jwt });
  // The session is over: its tokens are of no more use.
  if (envelope.code === 200) { session = signedOut; showTokens(); }
};
// Both end every session; the new password is the one to log in with from now on.
function usePassword(envelope) {
  if (envelope.code === 200) $("password").value = $("new-password").value;
}
$("change").onclick = async () => {
  const envelope = await call("/login/password/change", {
    jwt: session.jwt, pwd: $("password").value,
    password: $("new-password").value, password_confirmation: $("new-password").value,
  });
  usePassword(envelope);
  if (envelope.code === 200) { session = envelope.data; showTokens(); }
};
$("send-reset").onclick = async () => {
  const envelope = await call("/login/send/sms", withTurnstile({ phone: $("phone").value, purpose: "reset" }));
  if (envelope.code === 200 && envelope.data && envelope.data.code) $("reset-code").value = envelope.data.code;
};
$("reset").onclick = async () => usePassword(await call("/login/password/reset", {
  phone: $("phone").value, code: $("reset-code").value,
  password: $("new-password").value, password_confirmation: $("new-password").value,
}));
$("send-login").onclick = async () => {
  const envelope = await call("/login/send/sms", withTurnstile({ phone: $("phone").value, purpose: "login" }));
  if (envelope.code === 200 && envelope.data && envelope.data.code) $("login-code").value = envelope.data.code;
};
$("sms-login").onclick = async () => {
  const envelope = await call("/login/jwt/sms", { phone: $("phone").value, code: $("login-code").value });
  if (envelope.code !== 200) return;
  session = { jwt: envelope.data.jwt, refresh_jwt: envelope.data.refresh_jwt };
  // A sign-in that made the user names its generated account.
  if (envelope.data.account) $("account").value = envelope.data.account;
  showTokens();
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
        const envelope = await call("/login/jwt/deactivate", { jwt: session.jwt, sid: device.sid });
        if (envelope.code === 200) item.remove();
      };
      item.append(end);
    }
    list.append(item);
  }
}
$("devices").onclick = async () => {
  const envelope = await call("/login/sessions/list", { jwt: session.jwt });
  showDevices(envelope.code === 200 ? envelope.data : []);
};
$("end-others").onclick = async () => {
  const envelope = await call("/login/jwt/deactivate", { jwt: session.jwt, scope: "others" });
  if (envelope.code === 200) $("device-list").replaceChildren();
};
// A new number: its code is bound to this session's user, and the change needs the
// password too (an account without one, a sign-in of the last 10 minutes: leave it empty).
$("send-change").onclick = async () => {
  const body = withTurnstile({ phone: $("new-phone").value, purpose: "change_phone", jwt: session.jwt });
  const envelope = await call("/login/send/sms", body);
  if (envelope.code === 200 && envelope.data && envelope.data.code) $("change-code").value = envelope.data.code;
};
$("change-phone").onclick = async () => {
  const envelope = await call("/login/phone/change", {
    jwt: session.jwt, phone: $("new-phone").value, code: $("change-code").value, pwd: $("password").value || null,
  });
  // The account's phone is the new one from now on: sign-in and reset codes go there.
  if (envelope.code === 200) { $("phone").value = $("new-phone").value; $("device-list").replaceChildren(); }
};
// Deleting takes a tick in the box first: the confirmation.
$("confirm-delete").onchange = () => { $("delete-account").disabled = !$("confirm-delete").checked; };
$("delete-account").onclick = async () => {
  const envelope = await call("/login/account/delete", { jwt: session.jwt, pwd: $("password").value });
  $("confirm-delete").checked = false;
  $("delete-account").disabled = true;
  // Every session ended with it.
  if (envelope.code === 200) { session = signedOut; showTokens(); $("device-list").replaceChildren(); }
};
