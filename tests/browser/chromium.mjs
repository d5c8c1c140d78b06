// Headless Chromium as the browser tests launch it: the system's (or CHROMIUM's), with
// nothing of its own going to the network, and `extra` flags.
import { chromium } from "playwright-core";

export function launchChromium(extra = []) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync", ...extra],
  });
}
