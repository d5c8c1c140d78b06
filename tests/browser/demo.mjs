// Drives the demo page in headless Chromium, served from another origin than the API so
// that CORS is exercised for real: send a code, register, log in, status, refresh,
// deactivate (the page forgets the tokens), and status again (now refused, in the
// browser's language, English here); then a password change, which keeps the
// page signed in, and a reset by SMS code, which ends that session, after which the new
// password logs in; then a sign-in with an SMS code; then "your devices" (list, end one,
// end every other) and deleting the account, which a code sign-in restores. Saves a
// screenshot.
// Usage: node tests/browser/demo.mjs API_BASE_URL SCREENSHOT.png   (run by the e2e tests)
import http from "node:http";
import { launchChromium } from "./chromium.mjs";

const [api, screenshot] = process.argv.slice(2);
if (!api || !screenshot) throw new Error("usage: demo.mjs API_BASE_URL SCREENSHOT.png");

// The page, its scripts (the demo's and the client it imports) and its style as the worker serves them, with its headers (the
// Content-Security-Policy included: a script or style the policy refuses shows up as a
// console error, which fails the test), re-served from a second origin.
const files = {};
for (const path of ["/", "/demo.js", "/login-client.js", "/demo.css"]) {
  const response = await fetch(api + path);
  if (response.status !== 200) throw new Error(`GET ${path}: ${response.status}`);
  const headers = {};
  for (const name of ["content-type", "content-security-policy", "x-frame-options"]) {
    if (response.headers.has(name)) headers[name] = response.headers.get(name);
  }
  files[path] = { headers, body: await response.text() };
}
if (!files["/"].headers["content-security-policy"]) throw new Error("the page came without its policy");
const server = http.createServer((req, res) => {
  const file = files[new URL(req.url, "http://x").pathname];
  if (!file) { res.writeHead(404); res.end(); return; }
  res.writeHead(200, file.headers);
  res.end(file.body);
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const origin = `http://localhost:${server.address().port}`;

const browser = await launchChromium();
const failures = [];
try {
  // An English-speaking browser: the page asks for messages in its languages.
  const page = await browser.newPage({ viewport: { width: 1100, height: 1000 }, locale: "en-US" });
  // A CORS refusal shows up as a console error; the browser also notes each non-2xx
  // answer ("Failed to load resource"), which the last step expects.
  page.on("console", (message) => {
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
      failures.push("console: " + message.text());
    }
  });
  await page.goto(`${origin}/?api=${encodeURIComponent(api)}`);

  const phone = "15" + String(Date.now()).slice(-9);
  const account = "browser_" + Date.now();
  let step = 0;
  async function click(button, path, code) {
    step += 1;
    await page.click("#" + button);
    // Each click shows its own envelope; wait for this one.
    await page.waitForFunction(
      ([path, count]) => document.getElementById("history").textContent.split("\n").filter(Boolean).length === count
        && document.getElementById("last").textContent.startsWith("POST " + path),
      [path, step], { timeout: 15000 });
    const last = await page.textContent("#last");
    const envelope = JSON.parse(last.slice(last.indexOf("{")));
    if (envelope.code !== code) failures.push(`${button}: expected ${code}, got ${last}`);
    console.log(`${button}: ${envelope.code} ${envelope.msg}`);
    return envelope;
  }

  await page.fill("#phone", phone);
  await click("send", "/login/send/sms", 200);
  if (!/^\d{6}$/.test(await page.inputValue("#code"))) failures.push("the code was not filled in");
  await page.fill("#account", account);
  await page.fill("#password", "browser_pw_1");
  await click("register", "/login/register", 200);
  await click("login", "/login/jwt/get", 200);
  await click("status", "/login/jwt/status", 200);
  await click("refresh", "/login/jwt/refresh", 200);
  await click("status", "/login/jwt/status", 200);
  await click("deactivate", "/login/jwt/deactivate", 200);
  if (await page.textContent("#tokens") !== "No session yet.") failures.push("the page kept the ended session's tokens");
  const refused = await click("status", "/login/jwt/status", 9906);
  if (refused.msg !== "Validation failed: jwt is required") failures.push("not in the browser's language: " + refused.msg);

  await click("login", "/login/jwt/get", 200);
  await page.fill("#new-password", "browser_pw_2");
  await click("change", "/login/password/change", 200);
  await click("status", "/login/jwt/status", 200);
  await click("send-reset", "/login/send/sms", 200);
  if (!/^\d{6}$/.test(await page.inputValue("#reset-code"))) failures.push("the reset code was not filled in");
  await page.fill("#new-password", "browser_pw_3");
  await click("reset", "/login/password/reset", 200);
  await click("status", "/login/jwt/status", 9908);
  await click("login", "/login/jwt/get", 200);
  if (await page.inputValue("#password") !== "browser_pw_3") failures.push("the page did not take the new password");
  // Signing in with a code instead of the password: the code fills in and signs in.
  await click("send-login", "/login/send/sms", 200);
  if (!/^\d{6}$/.test(await page.inputValue("#login-code"))) failures.push("the login code was not filled in");
  await click("sms-login", "/login/jwt/sms", 200);
  await click("status", "/login/jwt/status", 200);

  // Your devices: the password login above and this sign-in (each recorded a moment
  // after its answer, so the list is asked again until both show).
  let devices = [];
  for (let tries = 0; devices.length < 2 && tries < 20; tries += 1) {
    devices = (await click("devices", "/login/sessions/list", 200)).data;
  }
  if (devices.length !== 2 || devices.filter((d) => d.current).length !== 1) {
    failures.push("the list is not the two sessions: " + JSON.stringify(devices));
  }
  if (await page.locator("#device-list li").count() !== devices.length) failures.push("the page does not show the list");
  step += 1;
  await page.click("#device-list button[data-sid]");
  await page.waitForFunction(
    (count) => document.getElementById("history").textContent.split("\n").filter(Boolean).length === count, step);
  if (!(await page.textContent("#last")).includes('"code": 200')) failures.push("ending a session failed");
  if (await page.locator("#device-list li").count() !== 1) failures.push("the ended session is still shown");
  await click("end-others", "/login/jwt/deactivate", 200);
  await click("status", "/login/jwt/status", 200);

  // A new number: its code fills in, the change moves the account there, and the page
  // takes it as the account's phone (the code sign-in below goes to it).
  const newPhone = "16" + String(Date.now()).slice(-9);
  await page.fill("#new-phone", newPhone);
  await click("send-change", "/login/send/sms", 200);
  if (!/^\d{6}$/.test(await page.inputValue("#change-code"))) failures.push("the change code was not filled in");
  await click("change-phone", "/login/phone/change", 200);
  if (await page.inputValue("#phone") !== newPhone) failures.push("the page did not take the new phone");
  await click("status", "/login/jwt/status", 200);

  // Leaving: the button waits for the box, then ends every session; a code sign-in
  // restores the account.
  if (await page.isEnabled("#delete-account")) failures.push("delete is enabled before it is confirmed");
  await page.check("#confirm-delete");
  const deleted = await click("delete-account", "/login/account/delete", 200);
  if (!/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(deleted.data.delete_date)) failures.push("no delete_date: " + JSON.stringify(deleted));
  if (await page.textContent("#tokens") !== "No session yet.") failures.push("the page kept the deleted account's tokens");
  await click("login", "/login/jwt/get", 50006);
  await click("send-login", "/login/send/sms", 200);
  const restored = await click("sms-login", "/login/jwt/sms", 200);
  if (restored.data.restored !== true) failures.push("the sign-in did not say it restored the account: " + JSON.stringify(restored));
  await click("login", "/login/jwt/get", 200);
  await page.screenshot({ path: screenshot, fullPage: true });
} finally {
  await browser.close();
  server.close();
}
if (failures.length) {
  console.error(failures.join("\n"));
  process.exit(1);
}
console.log("demo page: every step answered as expected; screenshot " + screenshot);
