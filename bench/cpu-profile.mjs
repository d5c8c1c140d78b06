// Records a V8 CPU profile of the worker that `wrangler dev --inspector-port PORT` serves,
// for bench/profile_endpoint.py: `node cpu-profile.mjs PORT OUT` starts the profiler, prints
// "started", and when its standard input closes stops it and writes the profile (JSON,
// which Chrome's DevTools also open) to OUT. Node's own WebSocket and fetch; no packages.
import { writeFileSync } from "node:fs";

const [port, out] = process.argv.slice(2);
const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
// wrangler's inspector proxy wants an Origin header, which Node's WebSocket (undici)
// sends only when told.
const address = new URL(targets[0].webSocketDebuggerUrl);
const socket = new WebSocket(address, { headers: { Origin: `http://${address.host}` } });
await new Promise((resolve, reject) => {
  socket.onopen = resolve;
  socket.onerror = () => reject(new Error(`no inspector on port ${port}`));
});

let last = 0;
const pending = new Map();
socket.onmessage = (event) => {
  const message = JSON.parse(event.data);
  pending.get(message.id)?.(message);
  pending.delete(message.id);
};
function call(method, params = {}) {
  return new Promise((resolve) => {
    const id = ++last;
    pending.set(id, resolve);
    socket.send(JSON.stringify({ id, method, params }));
  });
}

await call("Profiler.enable");
// Every 100 µs: a login's parts are fractions of a millisecond.
await call("Profiler.setSamplingInterval", { interval: 100 });
await call("Profiler.start");
console.log("started");
process.stdin.resume();
await new Promise((resolve) => process.stdin.on("end", resolve));
const stopped = await call("Profiler.stop");
writeFileSync(out, JSON.stringify(stopped.result.profile));
socket.close();
process.exit(0);
