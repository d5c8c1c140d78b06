// A receiver of Standard Webhooks deliveries for the end-to-end tests: the app's endpoint
// as a user would write it, checking each delivery with the spec's own library (npm
// standardwebhooks), not with code of this repository. It records every delivery, and
// answers as it is told to.
//   node tests/webhook/receiver.mjs SECRET   prints "listening PORT" once it listens
//   GET /deliveries   every delivery so far: {path, id, at_ms, body, verified, payload |
//                     error, forged_rejected, status} (forged_rejected: the library
//                     refuses the same delivery under another secret, so its check is not
//                     a formality; status: what the receiver answered)
//   POST /mode        {"status": 500} or {"hang_ms": 8000}: how to answer from now on
//   POST /rules       {"contains": TEXT, "status": 500, "hang_ms": 0, "times": 2}: how to
//                     answer a delivery whose body contains TEXT instead, the first
//                     `times` times (always without `times`); the first rule that matches
//                     decides, so tests running at once each answer their own way
import http from "node:http";
import { Webhook } from "standardwebhooks";

const [secret] = process.argv.slice(2);
if (!secret) throw new Error("usage: receiver.mjs SECRET");
const webhook = new Webhook(secret);
const impostor = new Webhook("whsec_" + Buffer.from("another secret of 32 bytes......").toString("base64"));
const deliveries = [];
let mode = { status: 200, hang_ms: 0 };
const rules = [];

const read = (req) => new Promise((done) => {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => done(Buffer.concat(chunks).toString("utf8")));
});

const server = http.createServer(async (req, res) => {
  const body = await read(req);
  if (req.method === "GET" && req.url === "/deliveries") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(deliveries));
    return;
  }
  if (req.method === "POST" && req.url === "/rules") {
    rules.push(JSON.parse(body));
    res.end("{}");
    return;
  }
  if (req.method === "POST" && req.url === "/mode") {
    mode = { status: 200, hang_ms: 0, ...JSON.parse(body) };
    res.end("{}");
    return;
  }
  const entry = { path: req.url, id: req.headers["webhook-id"] ?? null, at_ms: Date.now(), body };
  try {
    entry.payload = webhook.verify(body, req.headers);
    entry.verified = true;
  } catch (error) {
    entry.verified = false;
    entry.error = String(error);
  }
  try {
    impostor.verify(body, req.headers);
    entry.forged_rejected = false;
  } catch {
    entry.forged_rejected = true;
  }
  deliveries.push(entry);
  const rule = rules.find((rule) => body.includes(rule.contains) && (rule.times ?? 1) > 0);
  if (rule && rule.times !== undefined) rule.times -= 1;
  const answer = { ...mode, ...(rule ? { status: 200, hang_ms: 0, ...rule } : {}) };
  if (answer.hang_ms) await new Promise((done) => setTimeout(done, answer.hang_ms));
  entry.status = entry.verified ? answer.status : 401;
  res.writeHead(entry.status);
  res.end();
});
server.listen(0, "127.0.0.1", () => console.log("listening " + server.address().port));
