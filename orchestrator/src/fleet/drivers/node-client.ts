import { readFile } from "node:fs/promises";
import path from "node:path";
import { envRecord, OUT_DIR, RESULT_FILE, type NodeClientEnv } from "../../../../loadtests/contract/env.js";
import { ClientResultSchema } from "../../../../loadtests/contract/result.js";
import type { LoadDriver } from "../driver.js";
import { mixEnv } from "../mix.js";

export const LOADCLIENT_IMAGE = "fiblab/loadclient:latest";
/** TCP open model: connections per client the arrivals spread over, unless the scenario says. */
export const TCP_OPEN_CONNECTIONS = 8;

/**
 * The Node load client (the TCP client and autocannon): configured by its environment, it waits
 * for START_AT itself (the barrier is the shared clock), prints its own progress lines and writes
 * result.json in the contract's shape.
 */
export const nodeClientDriver: LoadDriver = {
  plan(group, client, ctx) {
    const tool = group.tool === "tcp" ? "tcp" : "autocannon";
    const load = client.load;
    const env: NodeClientEnv = {
      TOOL: tool,
      TARGET_HOST: ctx.target.host,
      TARGET_PORT: String(tool === "tcp" ? ctx.target.tcpPort : ctx.target.httpPort),
      MODEL: load.model,
      MIX: mixEnv(group.request, group.tool),
      DURATION_MS: String(ctx.durationMs),
      WARMUP_MS: String(ctx.warmupMs),
      TIMEOUT_MS: String(ctx.timeoutMs),
      GROUP: group.name,
      CLIENT_INDEX: String(client.clientIndex),
      CLIENT_COUNT: String(group.clients.count),
      START_AT: String(Math.round(ctx.startAt)),
      OUT: `${OUT_DIR}/${RESULT_FILE}`,
      SEED: String(ctx.seed),
      ...(load.model === "open"
        ? {
            RATE: String(load.rate),
            CONNECTIONS: String(load.connections ?? TCP_OPEN_CONNECTIONS),
            ...(load.arrivals ? { ARRIVALS: load.arrivals } : {}),
          }
        : {
            CONNECTIONS: String(load.connections),
            PIPELINING: String(load.pipelining),
            ...(load.rate !== undefined ? { RATE: String(load.rate) } : {}),
          }),
    };
    return { image: LOADCLIENT_IMAGE, cmd: undefined, env: envRecord(env), apiPort: undefined };
  },

  async release(clients, ctx) {
    for (const c of clients) c.releasedAt = ctx.startAt;
  },

  async collect(client) {
    const text = await readFile(path.join(client.spec.outDir, RESULT_FILE), "utf8");
    return ClientResultSchema.parse(JSON.parse(text));
  },
};
