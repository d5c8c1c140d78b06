// Two tabs of one origin in headless Chromium, each with the JavaScript client over
// localStorage, against a worker with REFRESH_ROTATION=true and a 3-second access token.
// Twenty times, both call the API at the same moment past the token's expiry: both must
// answer, and between them exactly one refresh may reach the worker (Web Locks let one
// tab refresh, BroadcastChannel and the storage give the other the new pair). The test
// that runs this (tests/e2e/js_client.rs) then finds no replay of a retired refresh token,
// nor a reuse within the worker's grace window, in the worker's log. Last, signing out in
// one tab signs the other out.
// Usage: node tests/browser/tabs.mjs API_BASE_URL   (run by the e2e tests)
import http from "node:http";
import { launchChromium } from "./chromium.mjs";

const [api] = process.argv.slice(2);
if (!api) throw new Error("usage: tabs.mjs API_BASE_URL");
const ROUNDS = 20;
const TTL_MS = 3000;

// The client as the worker serves it to the demo page, from an origin of its own.
const bundle = await fetch(api + "/login-client.js");
if (bundle.status !== 200) throw new Error("GET /login-client.js: " + bundle.status);
const client = await bundle.text();
const server = http.createServer((req, res) => {
  if (req.url === "/login-client.js") {
    res.writeHead(200, { "content-type": "text/javascript" });
    res.end(client);
  } else {
    res.writeHead(200, { "content-type": "text/html" });
    res.end("<!doctype html><title>a tab</title>");
  }
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const origin = `http://localhost:${server.address().port}`;

// Two tabs that both run at full speed, as if both were in view.
const browser = await launchChromium(["--disable-background-timer-throttling", "--disable-renderer-backgrounding"]);
const failures = [];
try {
  const context = await browser.newContext();
  const tabs = [await context.newPage(), await context.newPage()];
  const refreshes = [];
  for (const [index, tab] of tabs.entries()) {
    tab.on("console", (message) => {
      if (message.type() === "error") failures.push(`tab ${index}: ${message.text()}`);
    });
    tab.on("request", (request) => {
      if (request.method() === "POST" && request.url().endsWith("/login/jwt/refresh")) refreshes.push(index);
    });
    await tab.goto(origin + "/");
    await tab.evaluate(async (api) => {
      const { createLoginClient } = await import("/login-client.js");
      window.auth = createLoginClient({ baseUrl: api, storage: localStorage, language: "en" });
      window.events = [];
      window.auth.onSessionChange((event) => window.events.push(event));
    }, api);
  }
  const [first, second] = tabs;

  // A user, signed in in the first tab; the second tab shares its storage.
  const phone = "17" + String(Date.now()).slice(-9);
  const account = "tabs_" + Date.now();
  const uid = await first.evaluate(async ([phone, account]) => {
    const { code } = await auth.sendCode({ phone });
    await auth.register({ account, password: "tabs_pw_1", password_confirmation: "tabs_pw_1", phone, code });
    await auth.logIn({ account, pwd: "tabs_pw_1" });
    return (await auth.status()).uid;
  }, [phone, account]);
  if ((await second.evaluate(() => auth.status())).uid !== uid) failures.push("the second tab is not signed in");

  for (let round = 1; round <= ROUNDS && failures.length === 0; round += 1) {
    await new Promise((done) => setTimeout(done, TTL_MS + 200));
    refreshes.length = 0;
    // Both at one moment: each tab waits for the same instant on its own clock.
    const at = Date.now() + 300;
    const answers = await Promise.all(tabs.map((tab) => tab.evaluate(async (at) => {
      await new Promise((done) => setTimeout(done, at - Date.now()));
      try {
        return { uid: (await auth.status()).uid };
      } catch (error) {
        return { error: `${error.code} ${error.message}` };
      }
    }, at)));
    for (const [index, answer] of answers.entries()) {
      if (answer.uid !== uid) failures.push(`round ${round}, tab ${index}: ${JSON.stringify(answer)}`);
    }
    if (refreshes.length !== 1) failures.push(`round ${round}: ${refreshes.length} refreshes (${refreshes}), not one`);
    console.log(`round ${round}: both answered; refreshed by tab ${refreshes}`);
  }

  // Both tabs hold the same, current pair, and saw the refreshes.
  const sessions = await Promise.all(tabs.map((tab) => tab.evaluate(() => auth.session())));
  if (JSON.stringify(sessions[0]) !== JSON.stringify(sessions[1])) failures.push("the tabs hold different sessions");
  // Signing out in one signs the other out.
  await first.evaluate(() => auth.signOut());
  await second.waitForFunction(() => window.events.at(-1) === "signed_out", null, { timeout: 5000 })
    .catch(() => failures.push("the second tab was not told of the sign-out"));
  if (await second.evaluate(() => auth.session()) !== null) failures.push("the second tab kept the session");
} finally {
  await browser.close();
  server.close();
}
if (failures.length) {
  console.error(failures.join("\n"));
  process.exit(1);
}
console.log(`two tabs: ${ROUNDS} rounds past the token's expiry, one refresh each, both signed in throughout`);
