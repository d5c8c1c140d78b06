// The client against the real worker (run by the end-to-end tests, tests/e2e/js_client.rs,
// with LOGIN_API naming a worker under `wrangler dev` that has REFRESH_ROTATION=true,
// SMS_SIGNUP=true, EXPOSE_SMS_CODE=true and ACCESS_TTL_SECONDS=3):
//   LOGIN_API=http://127.0.0.1:8787 node --test clients/js/test/client.test.mjs
// Every method, every refusal the client maps, and the refreshes it makes by itself.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createLoginClient, ErrorCode, LoginApiError } from "../dist/index.js";

const api = process.env.LOGIN_API;
assert.ok(api, "LOGIN_API: the worker's base URL");
const TTL_MS = 3000;
// The worker takes a token for good up to 5 s past its exp (clock skew between machines).
const LEEWAY_MS = 5000;
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

let serial = 0;
const uniquePhone = () => "15" + String((Date.now() * 100 + serial++) % 1e9).padStart(9, "0");
const uniqueAccount = () => "js_" + Date.now().toString(36) + "_" + serial++;

// A client whose every request is recorded (its path and envelope code), over a storage
// the test can see.
function recorded(options = {}) {
  const calls = [];
  const fetch = async (url, init) => {
    const response = await globalThis.fetch(url, init);
    const text = await response.text();
    let code;
    try {
      code = JSON.parse(text).code;
    } catch {
      code = "not json";
    }
    calls.push(new URL(url).pathname + " " + code);
    return { status: response.status, headers: response.headers, text: async () => text };
  };
  const storage = options.storage || new Map();
  const client = createLoginClient({
    baseUrl: api,
    language: "en",
    fetch,
    storage: { get: (k) => storage.get(k), set: (k, v) => storage.set(k, v), remove: (k) => storage.delete(k) },
    ...options.client,
  });
  const events = [];
  client.onSessionChange((event) => events.push(event));
  return { client, calls, storage, events };
}

// A token's claims, as the client reads them (without verifying).
const claims = (jwt) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url"));

async function refusal(promise) {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof LoginApiError, String(error));
    return error;
  }
  assert.fail("expected a LoginApiError");
}

async function newUser(client, password = "js_pw_1") {
  const phone = uniquePhone();
  const account = uniqueAccount();
  const { code } = await client.sendCode({ phone });
  await client.register({ account, password, password_confirmation: password, phone, code });
  return { phone, account, password };
}

test("every method, as a frontend calls them", async () => {
  const { client, calls, events } = recorded();
  const other = recorded().client;
  const user = await newUser(client);
  assert.equal(await client.session(), null);

  const signedIn = await client.logIn({ account: user.account, pwd: user.password });
  assert.deepEqual(Object.keys(await client.session()).sort(), ["jwt", "refresh_jwt"]);
  assert.equal((await client.session()).jwt, signedIn.jwt);
  const status = await client.status();
  assert.equal(status.account, user.account);
  assert.equal(claims(await client.accessToken()).sid, claims(signedIn.jwt).sid);

  // A forced refresh: with rotation, a new pair, kept.
  const refreshed = await client.refresh();
  assert.notEqual(refreshed.refresh_jwt, signedIn.refresh_jwt);
  assert.deepEqual(await client.session(), refreshed);

  // A second device, listed and ended by its sid.
  await other.logIn({ account: user.account, pwd: user.password });
  let devices = [];
  for (let tries = 0; devices.length < 2 && tries < 20; tries += 1) {
    devices = await client.listSessions();
    if (devices.length < 2) await sleep(100);
  }
  assert.equal(devices.length, 2, JSON.stringify(devices));
  const elsewhere = devices.find((device) => !device.current);
  assert.deepEqual(await client.deactivate({ sid: elsewhere.sid }), []);
  assert.equal((await refusal(other.status())).code, ErrorCode.Unauthorized);
  assert.equal(await other.session(), null, "the ended device's client signed out");
  assert.ok(await client.session(), "this one goes on");

  // A new password: this session goes on with the pair it answers with.
  const changed = await client.changePassword({ pwd: user.password, password: "js_pw_2", password_confirmation: "js_pw_2" });
  assert.deepEqual(await client.session(), { jwt: changed.jwt, refresh_jwt: changed.refresh_jwt });
  await client.status();

  // A new phone: the send carries the access token by itself.
  const newPhone = uniquePhone();
  const { code: changeCode } = await client.sendCode({ phone: newPhone, purpose: "change_phone" });
  assert.deepEqual(await client.changePhone({ phone: newPhone, code: changeCode, pwd: "js_pw_2" }), []);

  // A code sign-in at the new number.
  const { code: loginCode } = await client.sendCode({ phone: newPhone, purpose: "login" });
  const byCode = await client.logInWithCode({ phone: newPhone, code: loginCode });
  assert.equal(byCode.new_user, undefined);
  assert.equal((await client.status()).account, user.account);

  // A reset ends every session: the next call finds this one over and signs out.
  const { code: resetCode } = await client.sendCode({ phone: newPhone, purpose: "reset" });
  assert.deepEqual(await client.resetPassword({ phone: newPhone, code: resetCode, password: "js_pw_3", password_confirmation: "js_pw_3" }), []);
  const ended = await refusal(client.status());
  assert.equal(ended.code, ErrorCode.Unauthorized);
  assert.equal(await client.session(), null);

  // Log out everywhere else, then this session.
  await client.logIn({ account: user.account, pwd: "js_pw_3" });
  await other.logIn({ account: user.account, pwd: "js_pw_3" });
  assert.deepEqual(await client.deactivate({ scope: "others" }), []);
  assert.equal((await refusal(other.status())).code, ErrorCode.Unauthorized);
  await client.status();
  assert.deepEqual(await client.deactivate(), []);
  assert.equal(await client.session(), null);
  // Ending its own session by its sid is signing out too.
  await client.logIn({ account: user.account, pwd: "js_pw_3" });
  // (A login's session is recorded a moment after its answer: asked again until listed.)
  let own;
  for (let tries = 0; !own && tries < 20; tries += 1) {
    own = (await client.listSessions()).find((device) => device.current);
    if (!own) await sleep(100);
  }
  assert.deepEqual(await client.deactivate({ sid: own.sid }), []);
  assert.equal(await client.session(), null);

  // Deleting the account signs out; a code sign-in restores it.
  await client.logIn({ account: user.account, pwd: "js_pw_3" });
  const deleted = await client.deleteAccount({ pwd: "js_pw_3" });
  assert.match(deleted.delete_date, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  assert.equal(await client.session(), null);
  const { code: restoreCode } = await client.sendCode({ phone: newPhone, purpose: "login" });
  assert.equal((await client.logInWithCode({ phone: newPhone, code: restoreCode })).restored, true);

  await client.signOut();
  assert.equal(await client.session(), null);
  // Refreshes come whenever a token is due (its life is 3 s here); the sign-ins and
  // sign-outs in the order above.
  assert.ok(events.includes("refreshed"));
  assert.deepEqual(events.filter((event) => event != "refreshed"), [
    "signed_in", "signed_in", "signed_in", "signed_out", "signed_in", "signed_out",
    "signed_in", "signed_out", "signed_in", "signed_out", "signed_in", "signed_out",
  ]);
  assert.ok(calls.includes("/login/jwt/refresh 200"), calls.join("\n"));
});

test("signing out forgets the session even when the worker is out of reach", async () => {
  const storage = new Map();
  const online = recorded({ storage });
  const user = await newUser(online.client);
  await online.client.logIn({ account: user.account, pwd: user.password });
  const offline = createLoginClient({
    baseUrl: api,
    storage: { get: (k) => storage.get(k), set: (k, v) => storage.set(k, v), remove: (k) => storage.delete(k) },
    fetch: async () => {
      throw new TypeError("fetch failed");
    },
  });
  const events = [];
  offline.onSessionChange((event) => events.push(event));
  await offline.signOut();
  assert.equal(await offline.session(), null);
  assert.deepEqual(events, ["signed_out"]);
  // Online, it ends the session at the worker too, with the refresh token.
  await online.client.logIn({ account: user.account, pwd: user.password });
  const { jwt } = await online.client.session();
  online.calls.length = 0;
  await online.client.signOut();
  assert.deepEqual(online.calls, ["/login/jwt/deactivate 200"]);
  const status = await fetch(api + "/login/jwt/status", { method: "POST", body: JSON.stringify({ jwt }) });
  assert.equal((await status.json()).code, ErrorCode.Unauthorized);
});

test("a sign-in by code makes the user where SMS_SIGNUP allows", async () => {
  const { client } = recorded();
  const phone = uniquePhone();
  const { code } = await client.sendCode({ phone, purpose: "login" });
  const made = await client.logInWithCode({ phone, code });
  assert.equal(made.new_user, true);
  assert.equal((await client.status()).account, made.account);
});

test("each refusal is a LoginApiError with the envelope's code, message and HTTP status", async () => {
  const { client } = recorded();
  const user = await newUser(client);

  const invalid = await refusal(client.register({ account: "", password: "x", password_confirmation: "x", phone: "1", code: "1" }));
  assert.deepEqual([invalid.code, invalid.httpStatus, invalid.name], [ErrorCode.Invalid, 422, "LoginApiError"]);
  assert.match(invalid.msg, /^Validation failed: /);
  assert.equal(invalid.message, invalid.msg);

  const wrong = await refusal(client.logIn({ account: user.account, pwd: "not_it" }));
  assert.deepEqual([wrong.code, wrong.httpStatus], [ErrorCode.WrongLogin, 401]);


  const phone = uniquePhone();
  const { code } = await client.sendCode({ phone });
  const wrongCode = String((Number(code) + 1) % 1e6).padStart(6, "0");
  const badCode = await refusal(client.register({ account: uniqueAccount(), password: "js_pw_1", password_confirmation: "js_pw_1", phone, code: wrongCode }));
  assert.deepEqual([badCode.code, badCode.httpStatus], [ErrorCode.WrongCode, 400]);
  const live = await refusal(client.sendCode({ phone }));
  assert.deepEqual([live.code, live.httpStatus], [ErrorCode.CodeStillLive, 429]);
  await client.register({ account: uniqueAccount(), password: "js_pw_1", password_confirmation: "js_pw_1", phone, code });
  const again = uniquePhone();
  const { code: againCode } = await client.sendCode({ phone: again });
  const registered = await refusal(client.register({ account: user.account, password: "js_pw_1", password_confirmation: "js_pw_1", phone: again, code: againCode }));
  assert.deepEqual([registered.code, registered.httpStatus], [ErrorCode.AlreadyRegistered, 409]);

  // Ten failures for one account from one address: then it waits, and says how long.
  for (let i = 0; i < 10; i += 1) await refusal(client.logIn({ account: user.account, pwd: "not_it" }));
  const limited = await refusal(client.logIn({ account: user.account, pwd: user.password }));
  assert.deepEqual([limited.code, limited.httpStatus], [ErrorCode.TooManyRequests, 429]);
  assert.ok(limited.retryAfter > 0 && limited.retryAfter <= 900, String(limited.retryAfter));

  // Signed out, a call that needs a token goes without one: the worker's 9906.
  const missing = await refusal(client.status());
  assert.deepEqual([missing.code, missing.msg], [ErrorCode.Invalid, "Validation failed: jwt is required"]);

  // A path the worker does not serve, and an answer that is not the API's.
  const lost = createLoginClient({ baseUrl: api + "/login/" });
  const notFound = await refusal(lost.logIn({ account: "a", pwd: "b" }));
  assert.deepEqual([notFound.code, notFound.httpStatus], [ErrorCode.NotFound, 404]);
  const proxy = createLoginClient({
    baseUrl: api,
    fetch: async () => ({ status: 502, headers: new Headers(), text: async () => "<html>Bad gateway</html>" }),
  });
  const odd = await refusal(proxy.logIn({ account: "a", pwd: "b" }));
  assert.deepEqual([odd.code, odd.httpStatus, odd.msg], [ErrorCode.ServerError, 502, "HTTP 502"]);
  // No answer at all: fetch's own error, as it is.
  const away = createLoginClient({ baseUrl: "http://127.0.0.1:9" });
  await assert.rejects(away.logIn({ account: "a", pwd: "b" }), (error) => !(error instanceof LoginApiError));
});

test("messages come in the language asked for", async () => {
  const zh = createLoginClient({ baseUrl: api, language: "zh-CN" });
  assert.equal((await refusal(zh.status())).msg, "数据验证失败，原因如下：jwt 必填");
  const en = createLoginClient({ baseUrl: api, language: "en" });
  assert.equal((await refusal(en.status())).msg, "Validation failed: jwt is required");
});

test("an access token about to expire is refreshed before the call", async () => {
  const { client, calls, events } = recorded();
  const user = await newUser(client);
  const first = await client.logIn({ account: user.account, pwd: user.password });
  calls.length = 0;
  await client.status();
  assert.deepEqual(calls, ["/login/jwt/status 200"], "a fresh token goes as it is");
  await sleep(TTL_MS / 2 + 200);
  await client.status();
  assert.deepEqual(calls, ["/login/jwt/status 200", "/login/jwt/refresh 200", "/login/jwt/status 200"]);
  assert.notEqual((await client.session()).jwt, first.jwt);
  assert.deepEqual(events, ["signed_in", "refreshed"]);
  // Calls made together share one refresh.
  await sleep(TTL_MS + 200);
  calls.length = 0;
  await Promise.all([client.status(), client.listSessions(), client.status()]);
  assert.deepEqual(calls.filter((call) => call.includes("refresh")), ["/login/jwt/refresh 200"]);
  // Expired outright: the same.
  await sleep(TTL_MS + 200);
  assert.ok(await client.accessToken());
  assert.equal(calls.at(-1), "/login/jwt/refresh 200");
});

test("a 9908 for an expired token is refreshed once and the call tried once more", async () => {
  const { client, storage } = recorded();
  const user = await newUser(client);
  await client.logIn({ account: user.account, pwd: user.password });
  // Past exp and the leeway, in the whole seconds the worker counts.
  await sleep(TTL_MS + LEEWAY_MS + 1100);
  // A second client over the same storage on a device whose clock is a minute slow: it
  // takes the expired token for a good one, and the worker says otherwise.
  const realNow = Date.now;
  Date.now = () => realNow() - 60_000;
  try {
    const slow = recorded({ storage });
    assert.equal((await slow.client.status()).account, user.account);
    assert.deepEqual(slow.calls, ["/login/jwt/status 9908", "/login/jwt/refresh 200", "/login/jwt/status 200"]);
    // Its clock is now set by the token it was given: no needless 9908 next time.
    slow.calls.length = 0;
    await slow.client.status();
    assert.deepEqual(slow.calls, ["/login/jwt/status 200"]);
  } finally {
    Date.now = realNow;
  }
});

test("a session that a refresh cannot mend ends in one retry, signed out", async () => {
  const { client, calls, events } = recorded();
  const user = await newUser(client);
  await client.logIn({ account: user.account, pwd: user.password });
  const elsewhere = createLoginClient({ baseUrl: api });
  await elsewhere.logIn({ account: user.account, pwd: user.password });
  // A fresh token, so that the call below presents it rather than refreshing first.
  await client.refresh();
  await elsewhere.deactivate({ scope: "all" });
  calls.length = 0;
  assert.equal((await refusal(client.listSessions())).code, ErrorCode.Unauthorized);
  // The list refused, or on a slow machine the token due first: one refresh, refused.
  assert.deepEqual(calls.filter((call) => call != "/login/sessions/list 9908"), ["/login/jwt/refresh 9908"]);
  assert.equal(await client.session(), null);
  assert.deepEqual(events, ["signed_in", "refreshed", "signed_out"]);
});

test("clients sharing one storage refresh once between them (the storage lock)", async () => {
  const storage = new Map();
  const first = recorded({ storage });
  const second = recorded({ storage });
  const user = await newUser(first.client);
  await first.client.logIn({ account: user.account, pwd: user.password });
  for (let round = 0; round < 3; round += 1) {
    await sleep(TTL_MS + 100);
    first.calls.length = 0;
    second.calls.length = 0;
    const [a, b] = await Promise.all([first.client.status(), second.client.status()]);
    assert.equal(a.uid, b.uid);
    const refreshes = [...first.calls, ...second.calls].filter((call) => call.startsWith("/login/jwt/refresh"));
    assert.deepEqual(refreshes, ["/login/jwt/refresh 200"], `round ${round}`);
  }
});
