import { describe, expect, it } from "vitest";
import { liveAddresses, servingConnections } from "../../../src/events/drain.js";

// Lines as a replica's /proc/<pid>/net/tcp and tcp6 show them (172.19.0.6 serving on 8000 = 0x1F40).
const HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode";
const row = (local: string, remote: string, st: string) =>
  `   0: ${local} ${remote} ${st} 00000000:00000000 00:00000000 00000000 10001 0 1 1`;

describe("servingConnections", () => {
  it("counts established client connections to 8000 and 25000, not listeners, closing ones or health checks", () => {
    const text = [
      HEADER,
      row("00000000:1F40", "00000000:0000", "0A"), // the listener
      row("060013AC:1F40", "020013AC:A9C6", "01"), // the front, HTTP
      row("060013AC:61A8", "020013AC:A9C8", "01"), // the front, TCP 25000
      row("060013AC:1F40", "020013AC:D770", "06"), // TIME_WAIT: over
      row("0100007F:1F40", "0100007F:88F9", "01"), // the health check on loopback
      row("060013AC:88F9", "020013AC:1F40", "01"), // an outgoing connection: not served
      row("0000000000000000FFFF0000060013AC:1F40", "0000000000000000FFFF0000020013AC:A9CA", "01"), // v4 peer on a v6 socket
      row("00000000000000000000000001000000:1F40", "00000000000000000000000001000000:A9CC", "01"), // ::1
    ].join("\n");
    expect(servingConnections(text)).toBe(3);
    expect(servingConnections(text, [25000])).toBe(1);
    expect(servingConnections("")).toBe(0);
  });
});

describe("liveAddresses", () => {
  it("reads the front's blank-separated list, empty when the file is missing", () => {
    expect(liveAddresses("172.19.0.3 172.19.0.5\n")).toEqual(["172.19.0.3", "172.19.0.5"]);
    expect(liveAddresses("")).toEqual([]);
  });
});
