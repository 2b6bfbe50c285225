/**
 * The expression language of FINDINGS.md's annotations (docs/findings/README.md): paths into a
 * run's summary.json, combined with + - * / and numeric constants. Pure: parse, then evaluate
 * against parsed JSON.
 *
 *   rows[key=gunicorn-sync.1x1cpu-w2.fib25-saturate.fib25].throughput.mean
 *   rows[key=A].latency.p99 / rows[key=B].latency.p99
 *   100 * rows[workload=fib25-80pct,model=uvicorn,topology.id=2x0p5cpu-w1].limit.fraction
 *   run=20261127T063038Z-rel-check: probes[0].serviceTimes[n=22].cpuMs
 *
 * Row keys contain dots, so a path is split by brackets first: inside [ ] everything up to the
 * closing bracket is the selector. `run=<id>:` switches the run of every path after it.
 */

export type Segment =
  { kind: "field"; name: string } | { kind: "index"; index: number } | { kind: "select"; conditions: { field: string[]; value: string }[] };

export type Expr =
  | { kind: "number"; value: number }
  | { kind: "path"; run: string | undefined; text: string; segments: Segment[] }
  | { kind: "negate"; operand: Expr }
  | { kind: "binary"; op: "+" | "-" | "*" | "/"; left: Expr; right: Expr };

/** A malformed expression or a path that finds nothing: the message says which and where. */
export class PathError extends Error {
  override name = "PathError";
}

type Token =
  | { kind: "number"; value: number }
  | { kind: "path"; text: string; segments: Segment[] }
  | { kind: "run"; id: string }
  | { kind: "op"; op: "+" | "-" | "*" | "/" | "(" | ")" };

const IDENT_START = /[A-Za-z_$]/;
const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*/;
const NUMBER = /^\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|^\.\d+/;
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function parseSelector(body: string, at: string): Segment {
  const trimmed = body.trim();
  if (/^\d+$/.test(trimmed)) return { kind: "index", index: Number(trimmed) };
  const conditions = trimmed.split(",").map((c) => {
    const eq = c.indexOf("=");
    const field = c.slice(0, eq).trim();
    if (eq < 0 || !/^[A-Za-z_$][A-Za-z0-9_$]*(\.[A-Za-z_$][A-Za-z0-9_$]*)*$/.test(field)) {
      throw new PathError(`bad selector [${body}] after ${at}: write [field=value] or [0]`);
    }
    return { field: field.split("."), value: c.slice(eq + 1).trim() };
  });
  return { kind: "select", conditions };
}

/** A path from `start`: identifiers joined by dots and bracketed selectors; returns where it ends. */
function readPath(src: string, start: number): { token: Token; end: number } {
  let i = start;
  const segments: Segment[] = [];
  const first = IDENT.exec(src.slice(i));
  if (!first) throw new PathError(`expected a field name at column ${i + 1}`);
  segments.push({ kind: "field", name: first[0] });
  i += first[0].length;
  for (;;) {
    if (src[i] === "." && IDENT_START.test(src[i + 1] ?? "")) {
      const m = IDENT.exec(src.slice(i + 1))!;
      segments.push({ kind: "field", name: m[0] });
      i += 1 + m[0].length;
    } else if (src[i] === "[") {
      const close = src.indexOf("]", i);
      if (close < 0) throw new PathError(`unclosed [ at column ${i + 1}`);
      segments.push(parseSelector(src.slice(i + 1, close), src.slice(start, i)));
      i = close + 1;
    } else break;
  }
  return { token: { kind: "path", text: src.slice(start, i), segments }, end: i };
}

function tokenise(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (src.startsWith("run=", i)) {
      const colon = src.indexOf(":", i);
      const id = colon < 0 ? "" : src.slice(i + 4, colon).trim();
      if (!RUN_ID.test(id)) throw new PathError(`bad run prefix at column ${i + 1}: write run=<run-id>: <path>`);
      tokens.push({ kind: "run", id });
      i = colon + 1;
    } else if (/[\d.]/.test(c) && NUMBER.test(src.slice(i))) {
      const m = NUMBER.exec(src.slice(i))!;
      tokens.push({ kind: "number", value: Number(m[0]) });
      i += m[0].length;
    } else if (IDENT_START.test(c)) {
      const { token, end } = readPath(src, i);
      tokens.push(token);
      i = end;
    } else if ("+-*/()".includes(c)) {
      tokens.push({ kind: "op", op: c as "+" | "-" | "*" | "/" | "(" | ")" });
      i++;
    } else if (c === "×") {
      tokens.push({ kind: "op", op: "*" });
      i++;
    } else {
      throw new PathError(`unexpected "${c}" at column ${i + 1}`);
    }
  }
  return tokens;
}

/** Recursive descent over the tokens; `run=` is sticky: it applies to every later path. */
class Parser {
  private pos = 0;
  private run: string | undefined;
  constructor(private readonly tokens: Token[]) {}

  parse(): Expr {
    if (this.tokens.length === 0) throw new PathError("empty expression");
    const e = this.sum();
    if (this.pos < this.tokens.length) throw new PathError(`unexpected ${describe(this.tokens[this.pos]!)} after a complete expression`);
    return e;
  }

  private peekOp(...ops: string[]): string | undefined {
    const t = this.tokens[this.pos];
    return t?.kind === "op" && ops.includes(t.op) ? t.op : undefined;
  }

  private sum(): Expr {
    let left = this.product();
    for (let op = this.peekOp("+", "-"); op; op = this.peekOp("+", "-")) {
      this.pos++;
      left = { kind: "binary", op: op as "+" | "-", left, right: this.product() };
    }
    return left;
  }

  private product(): Expr {
    let left = this.unary();
    for (let op = this.peekOp("*", "/"); op; op = this.peekOp("*", "/")) {
      this.pos++;
      left = { kind: "binary", op: op as "*" | "/", left, right: this.unary() };
    }
    return left;
  }

  private unary(): Expr {
    if (this.peekOp("-")) {
      this.pos++;
      return { kind: "negate", operand: this.unary() };
    }
    return this.atom();
  }

  private atom(): Expr {
    const t = this.tokens[this.pos++];
    if (!t) throw new PathError("the expression ends too early");
    if (t.kind === "run") {
      this.run = t.id;
      return this.atom();
    }
    if (t.kind === "number") return { kind: "number", value: t.value };
    if (t.kind === "path") return { kind: "path", run: this.run, text: t.text, segments: t.segments };
    if (t.op === "(") {
      const e = this.sum();
      if (!this.peekOp(")")) throw new PathError("missing )");
      this.pos++;
      return e;
    }
    throw new PathError(`unexpected ${describe(t)}`);
  }
}

function describe(t: Token): string {
  if (t.kind === "op") return `"${t.op}"`;
  if (t.kind === "number") return `number ${t.value}`;
  if (t.kind === "run") return `run=${t.id}:`;
  return `path ${t.text}`;
}

export function parseExpression(src: string): Expr {
  return new Parser(tokenise(src)).parse();
}

/** Every run an expression names (undefined: the document's default run). */
export function runsOf(e: Expr): (string | undefined)[] {
  if (e.kind === "path") return [e.run];
  if (e.kind === "negate") return runsOf(e.operand);
  if (e.kind === "binary") return [...runsOf(e.left), ...runsOf(e.right)];
  return [];
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

function field(x: unknown, name: string, at: string): unknown {
  if (!isRecord(x)) throw new PathError(`${at} is ${kindOf(x)}, not an object with "${name}"`);
  if (!Object.hasOwn(x, name)) {
    const known = Object.keys(x);
    const list = known.length > 12 ? `${known.slice(0, 12).join(", ")}, …` : known.join(", ");
    throw new PathError(`no field "${name}" in ${at || "the summary"} (it has: ${list})`);
  }
  return x[name];
}

function kindOf(x: unknown): string {
  if (x === null) return "null";
  if (Array.isArray(x)) return `an array of ${x.length}`;
  return typeof x === "object" ? "an object" : `${typeof x} ${JSON.stringify(x)}`;
}

function matches(el: unknown, conditions: { field: string[]; value: string }[]): boolean {
  return conditions.every((c) => {
    let v: unknown = el;
    for (const f of c.field) v = isRecord(v) && Object.hasOwn(v, f) ? v[f] : undefined;
    return (typeof v === "string" || typeof v === "number" || typeof v === "boolean") && String(v) === c.value;
  });
}

function step(x: unknown, s: Segment, at: string): unknown {
  if (s.kind === "field") return field(x, s.name, at);
  if (!Array.isArray(x)) throw new PathError(`${at} is ${kindOf(x)}, not an array`);
  if (s.kind === "index") {
    if (s.index >= x.length) throw new PathError(`${at}[${s.index}]: ${at} has ${x.length} element(s)`);
    return x[s.index];
  }
  const found = x.filter((el) => matches(el, s.conditions));
  const what = s.conditions.map((c) => `${c.field.join(".")}=${c.value}`).join(",");
  if (found.length === 0) throw new PathError(`no element of ${at} has ${what}`);
  if (found.length > 1) throw new PathError(`${found.length} elements of ${at} have ${what}: add a condition`);
  return found[0];
}

/** The value a path leads to in one summary. */
export function resolvePath(root: unknown, segments: readonly Segment[]): unknown {
  let x = root;
  let at = "";
  for (const s of segments) {
    x = step(x, s, at);
    if (s.kind === "field") at = at ? `${at}.${s.name}` : s.name;
    else if (s.kind === "index") at = `${at}[${s.index}]`;
    else at = `${at}[${s.conditions.map((c) => `${c.field.join(".")}=${c.value}`).join(",")}]`;
  }
  return x;
}

/** Evaluate against the summaries by run id; `defaultRun` for paths without a run prefix. */
export function evaluate(e: Expr, summaries: ReadonlyMap<string, unknown>, defaultRun: string): number {
  switch (e.kind) {
    case "number":
      return e.value;
    case "negate":
      return -evaluate(e.operand, summaries, defaultRun);
    case "path": {
      const run = e.run ?? defaultRun;
      if (!summaries.has(run)) throw new PathError(`run ${run} is not declared (<!-- findings-run: ${run} -->)`);
      const v = resolvePath(summaries.get(run), e.segments);
      if (typeof v !== "number" || !Number.isFinite(v)) throw new PathError(`${e.text} is ${kindOf(v)}, not a number`);
      return v;
    }
    case "binary": {
      const a = evaluate(e.left, summaries, defaultRun);
      const b = evaluate(e.right, summaries, defaultRun);
      if (e.op === "/" && b === 0) throw new PathError("division by zero");
      return e.op === "+" ? a + b : e.op === "-" ? a - b : e.op === "*" ? a * b : a / b;
    }
  }
}
