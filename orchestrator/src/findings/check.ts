import { evaluate, parseExpression, PathError, runsOf } from "./path.js";

/**
 * FINDINGS.md's figures against the runs it cites (the syntax: docs/findings/README.md). Pure: the
 * document's text and the parsed summaries in, every failure with its line out; cli.ts reads the
 * files and prints.
 */

export interface RunDeclaration {
  id: string;
  line: number;
}

/** A declared run's summary.json, parsed; or why it could not be read. */
export type RunSource = { summary: unknown } | { problem: string };

export interface Failure {
  line: number;
  /** The figure as written (number and unit), or the annotation when there is none. */
  quoted: string;
  expression?: string;
  /** The computed value, when the expression resolved. */
  actual?: number;
  message: string;
}

export interface CheckReport {
  runs: RunDeclaration[];
  /** Figures whose annotation resolved to the number written. */
  verified: number;
  /** Figures marked <!-- unchecked: why --> (not from a run), listed so a reader sees them. */
  unchecked: { line: number; quoted: string; reason: string }[];
  /** Relative targets of images, for the caller to check on disk. */
  images: { line: number; target: string }[];
  failures: Failure[];
}

interface Comment {
  start: number;
  end: number;
  content: string;
}

interface Line {
  line: number;
  /** The text with code spans, fenced blocks and comments blanked (same columns as the source). */
  visible: string;
  comments: Comment[];
  quote: boolean;
}

const blank = (s: string) => s.replace(/[^\n]/g, " ");
const FENCE = /^\s{0,3}(```|~~~)/;

/** Blank inline code and comments; carry an unclosed multi-line comment to the next lines. */
function scanLine(text: string, inComment: boolean): { visible: string; comments: Comment[]; inComment: boolean } {
  let visible = text;
  let from = 0;
  if (inComment) {
    const close = text.indexOf("-->");
    if (close < 0) return { visible: blank(text), comments: [], inComment: true };
    visible = blank(text.slice(0, close + 3)) + text.slice(close + 3);
    from = close + 3;
  }
  visible = visible.replace(/`[^`]*`/g, blank);
  const comments: Comment[] = [];
  for (let open = visible.indexOf("<!--", from); open >= 0; open = visible.indexOf("<!--", open + 4)) {
    const close = visible.indexOf("-->", open + 4);
    if (close < 0) return { visible: visible.slice(0, open) + blank(visible.slice(open)), comments, inComment: true };
    comments.push({ start: open, end: close + 3, content: visible.slice(open + 4, close).trim() });
    visible = visible.slice(0, open) + blank(visible.slice(open, close + 3)) + visible.slice(close + 3);
  }
  return { visible, comments, inComment: false };
}

/** Every line outside fenced code blocks, with what the check reads of it. */
export function scanDocument(markdown: string): Line[] {
  const out: Line[] = [];
  let fenced = false;
  let inComment = false;
  markdown.split(/\r?\n/).forEach((text, i) => {
    if (!inComment && FENCE.test(text)) {
      fenced = !fenced;
      return;
    }
    if (fenced) return;
    const scanned = scanLine(text, inComment);
    inComment = scanned.inComment;
    out.push({ line: i + 1, visible: scanned.visible, comments: scanned.comments, quote: /^\s*>/.test(text) });
  });
  return out;
}

const RUN_DECLARATION = /^findings-run:\s*(.*)$/;
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** <!-- findings-run: <run-id> --> lines, in order; the first is the default run. */
export function declaredRuns(markdown: string): RunDeclaration[] {
  return scanDocument(markdown).flatMap((l) =>
    l.comments.flatMap((c) => {
      const m = RUN_DECLARATION.exec(c.content);
      return m ? [{ id: m[1]!.trim(), line: l.line }] : [];
    }),
  );
}

/** A number as prose writes it: 1,234 · 0.52 · −3 (a sign only where it is not a range's dash). */
const NUMBER = /(?<![\w.,])([-−](?=\d))?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?/g;
/** At most this much unit between a number and its annotation ("req/s", "×", " ms", "% of it"). */
const UNIT = /^[^\d<>]{0,24}$/;

export interface Written {
  value: number;
  decimals: number;
  quoted: string;
}

/** The number written just before `end` (only a short unit may stand between), or undefined. */
export function numberBefore(text: string, end: number): Written | undefined {
  const before = text.slice(0, end);
  const all = [...before.matchAll(NUMBER)];
  const m = all[all.length - 1];
  if (!m) return undefined;
  const rest = before.slice(m.index + m[0].length).trimEnd();
  if (!UNIT.test(rest)) return undefined;
  const magnitude = Number(`${m[2]!.replace(/,/g, "")}${m[3] ? `.${m[3]}` : ""}`);
  return { value: m[1] ? -magnitude : magnitude, decimals: m[3]?.length ?? 0, quoted: before.slice(m.index).trim() };
}

/** Equal once the value is rounded to the decimals written (a tie either way passes). */
export function agrees(written: Written, actual: number): boolean {
  const half = 0.5 * 10 ** -written.decimals;
  return Math.abs(actual - written.value) <= half * (1 + 1e-9) + 1e-12;
}

/**
 * A measurement's unit right after a number: such a figure must carry an annotation. A × between
 * two numbers ("2 × 0.5 cpu") is a topology, not a ratio.
 */
const MEASURED =
  /(?<![\w.,])[-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s?(?:req\/s|MiB|GiB|KiB|ms|µs)|\s?×(?!\s?\d)|\s(?:s|errors?))(?![\w/])/g;

function unverified(l: Line): Failure[] {
  if (l.quote) return [];
  const starts = new Set(l.comments.map((c) => c.start));
  const out: Failure[] = [];
  for (const m of l.visible.matchAll(MEASURED)) {
    let next = m.index + m[0].length;
    while (l.visible[next] === " " && !starts.has(next)) next++;
    if (!starts.has(next)) {
      out.push({
        line: l.line,
        quoted: m[0],
        message: "unverified figure: annotate it (<!-- path -->) or mark it <!-- unchecked: why -->",
      });
    }
  }
  return out;
}

interface Context {
  runs: RunDeclaration[];
  loaded: Map<string, unknown>;
  problems: Map<string, string>;
  report: CheckReport;
}

function checkAnnotation(ctx: Context, l: Line, c: Comment): void {
  const { report } = ctx;
  const written = numberBefore(l.visible, c.start);
  const unchecked = /^unchecked:\s*(.*)$/.exec(c.content);
  if (!written) {
    const what = unchecked ? "an unchecked mark" : "an annotation";
    report.failures.push({ line: l.line, quoted: `<!-- ${c.content} -->`, message: `${what} with no number just before it` });
    return;
  }
  if (unchecked) {
    if (unchecked[1]!.trim() === "") report.failures.push({ line: l.line, quoted: written.quoted, message: "unchecked: say why" });
    else report.unchecked.push({ line: l.line, quoted: written.quoted, reason: unchecked[1]!.trim() });
    return;
  }
  const failure = (message: string, actual?: number): Failure => ({
    line: l.line,
    quoted: written.quoted,
    expression: c.content,
    message,
    ...(actual !== undefined ? { actual } : {}),
  });
  try {
    const expr = parseExpression(c.content);
    const defaultRun = ctx.runs[0]?.id;
    for (const run of runsOf(expr)) {
      const id = run ?? defaultRun;
      if (id === undefined) throw new PathError("no run declared: add <!-- findings-run: <run-id> --> before it");
      if (!ctx.runs.some((r) => r.id === id)) throw new PathError(`run ${id} is not declared (<!-- findings-run: ${id} -->)`);
      if (!ctx.loaded.has(id)) throw new PathError(`run ${id} has no summary: ${ctx.problems.get(id) ?? "not read"}`);
    }
    const actual = evaluate(expr, ctx.loaded, defaultRun ?? "");
    if (agrees(written, actual)) report.verified++;
    else report.failures.push(failure(`mismatch: the run says ${actual.toFixed(written.decimals)} (${actual})`, actual));
  } catch (e) {
    if (!(e instanceof PathError)) throw e;
    report.failures.push(failure(e.message));
  }
}

/** The declared runs: once each, a valid id, a summary of that very run. */
function checkRuns(ctx: Context, sources: ReadonlyMap<string, RunSource>): void {
  const seen = new Set<string>();
  const fail = (r: RunDeclaration, message: string) => {
    ctx.problems.set(r.id, message);
    ctx.report.failures.push({ line: r.line, quoted: `<!-- findings-run: ${r.id} -->`, message });
  };
  if (ctx.runs.length === 0) {
    ctx.report.failures.push({
      line: 1,
      quoted: "",
      message: "no run declared: add <!-- findings-run: <run-id> --> (docs/findings/README.md)",
    });
  }
  for (const r of ctx.runs) {
    if (seen.has(r.id)) fail(r, `run ${r.id} is declared twice`);
    seen.add(r.id);
    const source = sources.get(r.id);
    if (!RUN_ID.test(r.id)) fail(r, `"${r.id}" is not a run id`);
    else if (!source) fail(r, `run ${r.id} was not read`);
    else if ("problem" in source) fail(r, source.problem);
    else {
      const runId = (source.summary as { runId?: unknown } | null)?.runId;
      if (runId !== r.id) fail(r, `docs/findings/${r.id}/summary.json is the summary of run ${String(runId)}`);
      else ctx.loaded.set(r.id, source.summary);
    }
  }
}

/** Check every annotated figure, every unannotated measurement and every declared run. */
export function checkFindings(markdown: string, sources: ReadonlyMap<string, RunSource>): CheckReport {
  const lines = scanDocument(markdown);
  const runs = declaredRuns(markdown);
  const report: CheckReport = { runs, verified: 0, unchecked: [], images: [], failures: [] };
  const ctx: Context = { runs, loaded: new Map(), problems: new Map(), report };
  checkRuns(ctx, sources);
  for (const l of lines) {
    for (const c of l.comments) if (!RUN_DECLARATION.test(c.content)) checkAnnotation(ctx, l, c);
    report.failures.push(...unverified(l));
    for (const m of l.visible.matchAll(/!\[[^\]]*\]\(\s*<?([^)\s>]+)/g)) {
      if (!/^[a-z][a-z0-9+.-]*:/i.test(m[1]!)) report.images.push({ line: l.line, target: m[1]! });
    }
  }
  report.failures.sort((a, b) => a.line - b.line);
  return report;
}

/** One line per failure: where, what was written, the annotation, what the run says. */
export function formatFailure(file: string, f: Failure): string {
  const expr = f.expression !== undefined ? ` <!-- ${f.expression} -->` : "";
  return `${file}:${f.line}: "${f.quoted}"${expr}: ${f.message}`;
}
