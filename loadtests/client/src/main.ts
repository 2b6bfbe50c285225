/**
 * fiblab load client: one process per client container.
 *
 *   node dist/main.js    (configured by environment variables)
 *
 *   TOOL           tcp | autocannon
 *   TARGET_HOST    default front;  TARGET_PORT  default 25000 (tcp) / 8080 (autocannon)
 *   MODEL          open | closed (default closed; autocannon: closed only)
 *   RATE           open: requests/s of THIS client; autocannon: optional cap
 *   ARRIVALS       tcp open: uniform (default) | poisson;  SEED  seed of the Poisson arrivals (default 1; one per client)
 *   CONNECTIONS    default 1;  PIPELINING  closed: outstanding per connection, default 1
 *   MAX_INFLIGHT   tcp open: outstanding per connection before later sends wait, default 1000
 *   MIX            JSON list of {n, weight} or {path, weight}, or "25:9,1:1"
 *   DURATION_MS    measured window;  WARMUP_MS  load before it, not counted (default 0)
 *   TIMEOUT_MS     per request, default 10000
 *   GROUP, CLIENT_INDEX, CLIENT_COUNT   identity in the fleet (the open schedule is offset by index/count)
 *   START_AT       epoch ms: start of the warm-up, the same for every client of a cell
 *   OUT            default /out/result.json (ClientResult, written atomically)
 *
 * Prints one JSON progress line a second on stdout ({"t","phase","rps","sent","ok","errors","dropped"}),
 * then {"done":true,...}. Exit 0 when a result was written, 2 on a configuration error, 1 otherwise.
 */
import { parseConfig, type ClientConfig } from "./config.js";
import { runClient, writeAtomically } from "./run.js";

async function main(): Promise<number> {
  let cfg: ClientConfig;
  try {
    cfg = parseConfig(process.env);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 2;
  }
  const result = await runClient(cfg, (line) => process.stdout.write(`${line}\n`));
  writeAtomically(cfg.out, JSON.stringify(result));
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`load client failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
