// A receiver of Standard Webhooks deliveries for the end-to-end tests: the app's endpoint
// as a user would write it, checking each delivery with the spec's own library (npm
// standardwebhooks), not with code of this repository. It records every delivery, and
// answers as it is told to.
//   node tests/webhook/receiver.mjs SECRET   prints "listening PORT" once it listens
//   GET /deliveries   every delivery so far: {path, id, verified, payload | error,
//                     forged_rejected} (forged_rejected: the library refuses the same
//                     delivery under another secret, so its check is not a formality)
//   POST /mode        {"status": 500} or {"hang_ms": 8000}: how to answer from now on
import http from "node:http";
import { Webhook } from "standardwebhooks";

const [secret] = process.argv.slice(2);
if (!secret) throw new Error("usage: receiver.mjs SECRET");
const webhook = new Webhook(secret);
const impostor = new Webhook("whsec_" + Buffer.from("another secret of 32 bytes......").toString("base64"));
const deliveries = [];
let mode = { status: 200, hang_ms: 0 };

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
  if (req.method === "POST" && req.url === "/mode") {
    mode = { status: 200, hang_ms: 0, ...JSON.parse(body) };
    res.end("{}");
    return;
  }
  const entry = { path: req.url, id: req.headers["webhook-id"] ?? null };
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
  if (mode.hang_ms) await new Promise((done) => setTimeout(done, mode.hang_ms));
  res.writeHead(entry.verified ? mode.status : 401);
  res.end();
});
server.listen(0, "127.0.0.1", () => console.log("listening " + server.address().port));
