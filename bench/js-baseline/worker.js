// The JavaScript baseline of `make bench`: what a developer would write in an afternoon
// for the benchmark's hot paths of the /login API, as a plain JavaScript Worker (one ES
// module, no npm dependencies, no build step; D1, KV and WebCrypto). bench/run.py serves
// it next to the project's Rust worker and measures both in the same run, interleaved,
// so that the ratios say what the Rust worker costs or saves against the obvious
// alternative. It is not a product and is never deployed: no registration, no refresh
// or logout, and POST /setup (which makes the one account) is open.
//
//   GET  /healthz                     200 "ok"
//   POST /setup                       the users table and the account "bench"
//   POST /login/jwt/get               {account, pwd} -> {jwt, refresh_jwt}, no limits
//   POST /login/jwt/get-with-limits   the same within the project's failed-login limits
//   POST /login/jwt/status            {jwt} -> the access token's claims
//
// /login/jwt/get-with-limits keeps the limits as the project does, in the plain way a
// JavaScript developer would (a Durable Object per window, called by RPC): failures per
// account and address, per account and per address in 15 minutes, with the project's
// variables and defaults (10, 100, 100); every attempt
// holds a place in all three before the password is hashed, and the holds end after the
// answer (ctx.waitUntil). It measures what the limits cost on the platform itself, apart
// from the language.
//
// Every answer but /healthz is the project's envelope {code, msg, status, data}.

import { DurableObject } from "cloudflare:workers";

const ITERATIONS = 100_000; // PBKDF2-HMAC-SHA256, as the project's PBKDF2_ITERATIONS
const ISSUER = "login";
const AUDIENCE = "login";
const ACCESS_TTL_SECONDS = 86400;
const REFRESH_TTL_SECONDS = 604800;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

// A hash to check unknown accounts against, so that they cost what a wrong password costs.
const DUMMY_SALT = new Uint8Array(16);
const DUMMY_HASH = new Uint8Array(32);

// The HMAC key for JWTs, imported once per isolate (a promise, so concurrent first
// requests share one import).
let jwtKey = null;
function hmacKey(env) {
  jwtKey ??= crypto.subtle.importKey("raw", encoder.encode(env.JWT_SECRET), { name: "HMAC", hash: "SHA-256" },
    false, ["sign", "verify"]);
  return jwtKey;
}

function envelope(httpStatus, code, msg, data = []) {
  return new Response(JSON.stringify({ code, msg, status: code === 200, data }), {
    status: httpStatus,
    headers: { "Content-Type": "application/json; charset=utf-8" },
  });
}
const ok = (data) => envelope(200, 200, "ok", data);

function base64url(bytes) {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function unbase64url(text) {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

const randomId = () => base64url(crypto.getRandomValues(new Uint8Array(16)));

async function pbkdf2(password, salt) {
  const key = await crypto.subtle.importKey("raw", encoder.encode(password), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations: ITERATIONS },
    key, 256);
  return new Uint8Array(bits);
}

function equal(a, b) {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i] ^ b[i];
  return difference === 0;
}

async function signJwt(env, claims) {
  const header = base64url(encoder.encode(JSON.stringify({ alg: "HS256", typ: "JWT" })));
  const payload = base64url(encoder.encode(JSON.stringify(claims)));
  const signature = await crypto.subtle.sign("HMAC", await hmacKey(env), encoder.encode(`${header}.${payload}`));
  return `${header}.${payload}.${base64url(new Uint8Array(signature))}`;
}

// The claims of a valid token of kind `typ`, or null.
async function verifyJwt(env, token, typ) {
  if (typeof token !== "string") return null;
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    const header = JSON.parse(decoder.decode(unbase64url(parts[0])));
    if (header.alg !== "HS256") return null;
    const signed = encoder.encode(`${parts[0]}.${parts[1]}`);
    if (!(await crypto.subtle.verify("HMAC", await hmacKey(env), unbase64url(parts[2]), signed))) return null;
    const claims = JSON.parse(decoder.decode(unbase64url(parts[1])));
    const now = Math.floor(Date.now() / 1000);
    if (!(claims.exp > now) || claims.iss !== ISSUER || claims.aud !== AUDIENCE || claims.typ !== typ) return null;
    return claims;
  } catch {
    return null;
  }
}

async function setup(env) {
  await env.DB.prepare("CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY AUTOINCREMENT, " +
    "account TEXT NOT NULL UNIQUE, salt TEXT NOT NULL, hash TEXT NOT NULL)").run();
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const hash = await pbkdf2("bench_password_1", salt);
  await env.DB.prepare("INSERT OR REPLACE INTO users (account, salt, hash) VALUES (?, ?, ?)")
    .bind("bench", base64url(salt), base64url(hash)).run();
  return ok([]);
}

async function login(env, body, { ctx, ip }, limited = false) {
  const { account, pwd } = body;
  if (typeof account !== "string" || !account || typeof pwd !== "string" || !pwd) {
    return envelope(422, 9906, "account and pwd are required");
  }
  const find = env.DB.prepare("SELECT id, salt, hash FROM users WHERE account = ?").bind(account).first();
  let holds = [];
  if (limited) {
    const max = (name, otherwise) => Number(env[name] ?? otherwise);
    const windows = [
      [`login-ip-account:${ip}|${account}`, max("LOGIN_FAILURES_PER_ACCOUNT_AND_IP", 10), true],
      [`login-account:${account}`, max("LOGIN_FAILURES_PER_ACCOUNT", 100), true],
      [`login-ip:${ip}`, max("LOGIN_FAILURES_PER_IP", 100), false],
    ];
    const taken = await Promise.allSettled(windows.map(([key, max]) => hold(env, key, max)));
    holds = windows.map(([key, , clears], i) => ({ key, clears, stamp: taken[i].value }))
      .filter((h) => h.stamp != null);
    const broken = taken.find((t) => t.status === "rejected");
    if (holds.length < windows.length) {
      // Refused, or an object failed: not a guess, so the places given are given back.
      find.catch(() => {});
      ctx.waitUntil(Promise.all(holds.map((h) => windowOf(env, h.key).end(h.stamp, "giveBack"))));
      if (broken) throw broken.reason;
      return envelope(429, 9905, "too many failed logins");
    }
  }
  let success;
  try {
    const user = await find;
    const hash = await pbkdf2(pwd, user ? unbase64url(user.salt) : DUMMY_SALT);
    success = user && equal(hash, unbase64url(user.hash)) ? user : null;
  } finally {
    // A failure counts; a success clears the account's windows and gives the address's
    // place back; an error (success still undefined) is no guess and gives every place back.
    const how = (h) => (success === undefined ? "giveBack" : !success ? "settle" : h.clears ? "clearThrough" : "giveBack");
    ctx.waitUntil(Promise.all(holds.map((h) => windowOf(env, h.key).end(h.stamp, how(h)))));
  }
  if (!success) return envelope(401, 50006, "wrong account or password");
  const user = success;
  const now = Math.floor(Date.now() / 1000);
  const sid = randomId();
  const claims = (typ, ttl) => ({
    iss: ISSUER, aud: AUDIENCE, sub: String(user.id), iat: now, nbf: now, exp: now + ttl,
    jti: randomId(), sid, typ, data: { uid: user.id, rid: ["1"] },
  });
  const [jwt, refresh_jwt] = await Promise.all([
    signJwt(env, claims("access", ACCESS_TTL_SECONDS)),
    signJwt(env, claims("refresh", REFRESH_TTL_SECONDS)),
  ]);
  return ok({ jwt, refresh_jwt });
}

async function status(env, body) {
  const claims = await verifyJwt(env, body.jwt, "access");
  if (!claims) return envelope(401, 9908, "invalid token");
  if ((await env.KV.get(`revoked:${claims.sid}`)) !== null) return envelope(401, 9908, "token revoked");
  return ok(claims);
}

// ---------- the failed-login limits of /login/jwt/get-with-limits ----------

const WINDOW_MS = 15 * 60 * 1000;
const windowOf = (env, key) => env.LOGIN_WINDOW.getByName(key);

// A place in the window, waiting a moment while attempts in flight fill it; null if the
// counted failures fill it.
async function hold(env, key, max) {
  const started = Date.now();
  for (;;) {
    const answer = await windowOf(env, key).hold(max);
    if (answer !== "busy") return answer;
    if (Date.now() - started > 3000) return null;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// One window: the times of the counted failures (stored) and of the holds (in memory).
export class LoginWindow extends DurableObject {
  async load() {
    this.events ??= (await this.ctx.storage.get("events")) ?? [];
    this.held ??= [];
  }

  async hold(max) {
    await this.load();
    const now = Date.now();
    // A hold nobody ended within 30 s counts as a failure, as the project's do.
    for (const at of this.held.filter((at) => at + 30_000 <= now)) this.events.push(at);
    this.held = this.held.filter((at) => at + 30_000 > now);
    this.events = this.events.filter((at) => at + WINDOW_MS > now);
    if (this.events.length >= max) return null;
    if (this.events.length + this.held.length >= max) return "busy";
    const stamp = Math.max(now, (this.held.at(-1) ?? 0) + 1);
    this.held.push(stamp);
    return stamp;
  }

  async end(stamp, how) {
    await this.load();
    const wasHeld = this.held.includes(stamp);
    this.held = this.held.filter((at) => at !== stamp);
    const before = this.events.length;
    if (how === "settle" && wasHeld) this.events.push(stamp);
    if (how === "clearThrough") this.events = this.events.filter((at) => at > stamp);
    if (this.events.length !== before) await this.ctx.storage.put("events", this.events);
  }
}

const ROUTES = {
  "/setup": setup,
  "/login/jwt/get": login,
  "/login/jwt/get-with-limits": (env, body, caller) => login(env, body, caller, true),
  "/login/jwt/status": status,
};

export default {
  async fetch(request, env, ctx) {
    const { pathname } = new URL(request.url);
    if (pathname === "/healthz" && request.method === "GET") return new Response("ok");
    const route = ROUTES[pathname];
    if (!route) return envelope(404, 9902, "not found");
    if (request.method !== "POST") return envelope(405, 9903, "method not allowed");
    let body;
    try {
      body = await request.json();
    } catch {
      return envelope(400, 9906, "the body is not JSON");
    }
    if (body === null || typeof body !== "object" || Array.isArray(body)) {
      return envelope(400, 9906, "the body is not a JSON object");
    }
    try {
      return await route(env, body, { ctx, ip: request.headers.get("CF-Connecting-IP") ?? "" });
    } catch (error) {
      console.error(error);
      return envelope(500, 9999, "internal error");
    }
  },
};
