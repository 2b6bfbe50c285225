import { access, mkdir, rename } from "node:fs/promises";
import path from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "./atomic.js";

/**
 * A run's folder. It lives under a temporary name while the run is in progress and is renamed
 * once at the end, so nothing half-written ever looks complete:
 *   results/.incomplete-<stamp>-<scenario>/   while running
 *   results/<stamp>-<scenario>/               finalize()
 *   results/<stamp>-<scenario>.INCOMPLETE/    abandon(reason), with INCOMPLETE.txt
 */

/** 2026-11-25T18:15:00.123Z -> "20261125T181500Z" (sorts by time, safe in file names). */
export function utcStamp(d: Date): string {
  return d
    .toISOString()
    .replace(/\.\d{3}Z$/, "Z")
    .replace(/[-:]/g, "");
}

/** "20261125T181500Z" -> the Date, or undefined. */
export function parseUtcStamp(stamp: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(stamp);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s));
}

export const INCOMPLETE_PREFIX = ".incomplete-";
export const INCOMPLETE_SUFFIX = ".INCOMPLETE";
export const INCOMPLETE_FILE = "INCOMPLETE.txt";

export type RunDirState = "open" | "complete" | "incomplete";

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]+/g, "_") || "scenario";
}

export class RunDir {
  private state: RunDirState = "open";
  private current: string;

  private constructor(
    readonly resultsDir: string,
    /** "<stamp>-<scenario>": the run's id, and its folder name once finished. */
    readonly id: string,
    readonly startedAt: Date,
  ) {
    this.current = path.join(resultsDir, `${INCOMPLETE_PREFIX}${id}`);
  }

  /** Two runs started in the same second get "-2", "-3" appended rather than sharing a folder. */
  static async create(resultsDir: string, scenario: string, now = new Date()): Promise<RunDir> {
    await mkdir(resultsDir, { recursive: true });
    const base = `${utcStamp(now)}-${safeName(scenario)}`;
    for (let n = 1; ; n++) {
      const id = n === 1 ? base : `${base}-${n}`;
      const taken = await Promise.all(
        [id, `${INCOMPLETE_PREFIX}${id}`, `${id}${INCOMPLETE_SUFFIX}`].map((name) => exists(path.join(resultsDir, name))),
      );
      if (taken.some(Boolean)) continue;
      const dir = new RunDir(resultsDir, id, now);
      try {
        // Not recursive: fails if another process took the name between the check and here.
        await mkdir(dir.current);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "EEXIST") continue;
        throw e;
      }
      return dir;
    }
  }

  /** Where the run currently lives (changes on finalize/abandon). */
  get path(): string {
    return this.current;
  }

  get status(): RunDirState {
    return this.state;
  }

  /** A path inside the run; refuses to leave it. */
  resolve(rel: string): string {
    const p = path.resolve(this.current, rel);
    if (p !== this.current && !p.startsWith(this.current + path.sep)) throw new Error(`${rel} is outside the run folder`);
    return p;
  }

  private assertOpen(): void {
    if (this.state !== "open") throw new Error(`run ${this.id} is already ${this.state}`);
  }

  async writeJson(rel: string, value: unknown): Promise<string> {
    this.assertOpen();
    const p = this.resolve(rel);
    await writeJsonAtomic(p, value);
    return p;
  }

  async writeText(rel: string, text: string | Uint8Array): Promise<string> {
    this.assertOpen();
    const p = this.resolve(rel);
    await writeFileAtomic(p, text);
    return p;
  }

  async mkdir(rel: string): Promise<string> {
    this.assertOpen();
    const p = this.resolve(rel);
    await mkdir(p, { recursive: true });
    return p;
  }

  /** Rename to the final name; returns it. */
  async finalize(): Promise<string> {
    this.assertOpen();
    const target = path.join(this.resultsDir, this.id);
    await rename(this.current, target);
    this.current = target;
    this.state = "complete";
    return target;
  }

  /**
   * Mark the run incomplete. INCOMPLETE.txt is written before the rename, so a folder with the
   * .INCOMPLETE name always says why.
   */
  async abandon(reason: string): Promise<string> {
    this.assertOpen();
    await writeFileAtomic(path.join(this.current, INCOMPLETE_FILE), `${reason.trimEnd()}\n`);
    const target = path.join(this.resultsDir, `${this.id}${INCOMPLETE_SUFFIX}`);
    await rename(this.current, target);
    this.current = target;
    this.state = "incomplete";
    return target;
  }
}
