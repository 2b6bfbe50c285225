import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/config.js";

describe("client configuration from the environment", () => {
  it("fills defaults", () => {
    const c = parseConfig({ TOOL: "tcp", MIX: "20", DURATION_MS: "5000" });
    expect(c).toMatchObject({
      tool: "tcp",
      host: "front",
      port: 25000,
      model: "closed",
      connections: 1,
      pipelining: 1,
      warmupMs: 0,
      timeoutMs: 10_000,
      group: "default",
      clientIndex: 0,
      clientCount: 1,
      startAt: undefined,
      out: "/out/result.json",
    });
    expect(parseConfig({ TOOL: "autocannon", MIX: '[{"path":"/sleep/5"}]', DURATION_MS: "1" }).port).toBe(8080);
  });
  it("reads an open TCP client", () => {
    const c = parseConfig({
      TOOL: "tcp",
      MODEL: "open",
      RATE: "12.5",
      CONNECTIONS: "4",
      MIX: '[{"n":30,"weight":1},{"n":1,"weight":9}]',
      DURATION_MS: "2000",
      WARMUP_MS: "500",
      START_AT: "1700000000000",
      GROUP: "probe",
      CLIENT_INDEX: "1",
      CLIENT_COUNT: "2",
      TARGET_HOST: "fl-front",
      TARGET_PORT: "25001",
    });
    expect(c).toMatchObject({
      model: "open",
      rate: 12.5,
      connections: 4,
      startAt: 1700000000000,
      clientIndex: 1,
      host: "fl-front",
      port: 25001,
    });
    expect(c.mix).toHaveLength(2);
  });
  it("reports every problem at once", () => {
    let msg = "";
    try {
      parseConfig({ TOOL: "tcp", MODEL: "open", MIX: '[{"path":"/sleep/5"}]', CONNECTIONS: "0", CLIENT_INDEX: "3" });
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/RATE is required/);
    expect(msg).toMatch(/only serves fib/);
    expect(msg).toMatch(/CONNECTIONS must be/);
    expect(msg).toMatch(/DURATION_MS is required/);
    expect(msg).toMatch(/CLIENT_INDEX \(3\) must be below/);
    expect(() => parseConfig({ TOOL: "wrk", MIX: "1", DURATION_MS: "1" })).toThrow(/TOOL/);
    expect(() => parseConfig({ TOOL: "autocannon", MODEL: "open", RATE: "5", MIX: "1", DURATION_MS: "1" })).toThrow(/closed model only/);
  });
});
