import cliProgress from "cli-progress";
import type { Cell } from "../scenario/expand.js";
import type { Phase, RunEvents } from "./runner.js";

/**
 * The live display of `lab run`: which cell of how many, its phase and the time left in it, and
 * the live request rate. On a terminal a redrawn bar; elsewhere (CI, a pipe) one line per change.
 */
export function progressDisplay(stream: NodeJS.WriteStream = process.stderr): RunEvents & { stop(): void } {
  const tty = Boolean(stream.isTTY);
  let total = 0;
  let phase: Phase | "" = "";
  let phaseEnds = 0;
  let rps = 0;
  let label = "";
  const bar = tty
    ? new cliProgress.SingleBar(
        {
          stream,
          format: "cell {value}/{total} [{bar}] {label} | {phase}{left} | {rps} req/s",
          barsize: 20,
          hideCursor: true,
          clearOnComplete: false,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let timer: NodeJS.Timeout | undefined;
  const payload = () => ({
    label,
    phase,
    left: phaseEnds > Date.now() ? ` ${Math.ceil((phaseEnds - Date.now()) / 1000)}s left` : "",
    rps: Math.round(rps),
  });
  const line = (s: string) => stream.write(`${s}\n`);
  /** The cell the bar shows (from 1); a line printed above the bar keeps it. */
  let current = 0;
  const above = (msg: string) => {
    if (!bar) return line(msg);
    bar.stop();
    line(msg);
    bar.start(total, current, payload());
  };
  const cellLabel = (c: Cell) => `${c.model} ${c.topology.id} ${c.workload.name} r${c.repeat}`;

  return {
    planned({ runId, cells, seed }) {
      total = cells.length;
      line(`run ${runId}: ${total} cells, order seed ${seed}`);
      if (bar) {
        bar.start(total, 0, payload());
        timer = setInterval(() => bar.update(payload()), 500);
      }
    },
    phase(cell, p, info) {
      phase = p;
      label = cellLabel(cell);
      phaseEnds = info?.durationMs ? Date.now() + info.durationMs : 0;
      if (p !== "load") rps = 0;
      current = cell.order + 1;
      if (bar) bar.update(current, payload());
      else line(`[${cell.order + 1}/${total}] ${label}: ${p}${info?.durationMs ? ` (${Math.round(info.durationMs / 1000)} s)` : ""}`);
    },
    rate(_cell, r) {
      rps = r;
    },
    cellDone(cell, summary) {
      const groups = summary.groups
        .map((g) => `${g.group} ${Math.round(g.throughput ?? 0)} req/s p99 ${g.latency ? g.latency.p99.toFixed(1) : "-"} ms`)
        .join("; ");
      const msg = `[${cell.order + 1}/${total}] ${cellLabel(cell)}: ${summary.status}${summary.error ? ` (${summary.error.slice(0, 200)})` : ""}${groups ? ` - ${groups}` : ""}`;
      above(msg);
    },
    warn(message) {
      above(`warning: ${message}`);
    },
    log(message) {
      if (!bar && process.env.LAB_VERBOSE) line(message);
    },
    stop() {
      clearInterval(timer);
      bar?.stop();
    },
  };
}
