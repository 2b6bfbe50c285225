import type net from "node:net";
import { fibString } from "../src/mix.js";

/**
 * The TCP service's line protocol on `sock`, for the scripts' loopback targets: each line is a
 * number, answered with its fib. `reply` gets the answers to each chunk received (possibly none),
 * to write at once or to hold.
 */
export function answerLines(sock: net.Socket, reply: (out: string) => void): void {
  sock.setNoDelay(true);
  let buf = "";
  sock.on("data", (d) => {
    buf += d.toString("latin1");
    let out = "";
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      out += `${fibString(Number(buf.slice(0, nl)))}\n`;
      buf = buf.slice(nl + 1);
    }
    reply(out);
  });
  sock.on("error", () => {});
}
