import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { ClientResult } from "../../contract/result.js";
import type { ClientConfig } from "./config.js";
import { now, Recorder, windowOf } from "./recorder.js";
import { runTcp } from "./tcp.js";
import { runAutocannon } from "./autocannon.js";

export function writeAtomically(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/** Runs one client to its end and returns what it measured; progress lines (JSON) go to onProgress each second. */
export async function runClient(cfg: ClientConfig, onProgress?: (line: string) => void): Promise<ClientResult> {
  const startAt = cfg.startAt ?? now() + 50;
  const rec = new Recorder(windowOf(startAt, cfg.warmupMs, cfg.durationMs));
  const ticker = onProgress ? setInterval(() => onProgress(JSON.stringify(rec.progress())), 1000) : undefined;
  try {
    if (cfg.tool === "tcp") {
      await runTcp(
        {
          host: cfg.host,
          port: cfg.port,
          model: cfg.model,
          rate: cfg.rate,
          arrivals: cfg.arrivals,
          seed: cfg.seed,
          connections: cfg.connections,
          pipelining: cfg.pipelining,
          maxInflight: cfg.maxInflight,
          mix: cfg.mix,
          timeoutMs: cfg.timeoutMs,
          offset: cfg.clientIndex / cfg.clientCount,
        },
        rec,
      );
    } else {
      await runAutocannon(
        {
          host: cfg.host,
          port: cfg.port,
          connections: cfg.connections,
          pipelining: cfg.pipelining,
          rate: cfg.rate,
          mix: cfg.mix,
          timeoutMs: cfg.timeoutMs,
        },
        rec,
      );
    }
  } finally {
    if (ticker) clearInterval(ticker);
  }
  const result = rec.result({ tool: cfg.tool, loadModel: cfg.model, group: cfg.group, clientIndex: cfg.clientIndex });
  onProgress?.(JSON.stringify({ ...rec.progress(now(), true), done: true }));
  return result;
}
