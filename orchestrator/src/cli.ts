#!/usr/bin/env node
import { Command, InvalidArgumentError } from "commander";
import { readFile, writeFile, access } from "node:fs/promises";
import path from "node:path";
import { loadCatalog, repoRoot } from "./models/catalog.js";
import { formatModelTable } from "./models/table.js";
import { ScenarioError } from "./scenario/load.js";
import { UserError } from "./errors.js";
import { checkEngine, planScenario, runScenario, scenarioImages } from "./run/runner.js";
import { ENGINES, engineFor, engineName, type EngineName } from "./engine/index.js";
import { progressDisplay } from "./run/progress.js";
import { listRuns, writeComparePage, writeIndexPage } from "./archive/index.js";
import { runProblems, RunSummarySchema } from "./measure/run-summary.js";
import { renderMarkdown } from "./report/markdown.js";
import { renderHtml } from "./report/html.js";
import { readChartJs } from "./report/chartjs.js";
import { compareRuns, renderComparisonMarkdown } from "./report/compare.js";
import { runLabel, sweepByLabel } from "./docker/sweep.js";

// FIBLAB_RESULTS moves the archive (tests use a temporary one).
const resultsDir = process.env.FIBLAB_RESULTS ?? path.join(repoRoot, "results");

function parseSeed(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`an integer, not "${v}"`);
  return n;
}

function parseRate(v: string): number {
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`requests per second > 0, not "${v}"`);
  return n;
}

const program = new Command()
  .name("lab")
  .description("fiblab: bring up a serving model behind the nginx front, load it, measure, archive.")
  .showHelpAfterError();

program
  .command("models")
  .description("list the models (from services/*/model.json)")
  .option("--json", "print the manifests as JSON")
  .action(async (opts: { json?: boolean }) => {
    const catalog = await loadCatalog();
    console.log(opts.json ? JSON.stringify(catalog, null, 2) : formatModelTable(catalog));
  });

program
  .command("run")
  .description("run a scenario: every cell in a recorded random order, archived under results/")
  .argument("<scenario>", "scenario file (YAML), e.g. loadtests/scenarios/smoke.yaml")
  .option("--seed <n>", "seed of the cell order (default: the scenario's, else random)", parseSeed)
  .option("--engine <name>", `where the cells run: ${ENGINES.join(" or ")} (the swarm of npm run swarm:up)`, engineName, "compose")
  .option("--strict", "exit 3 when a figure measured a load client at its CPU limit, or a machine busy with something else")
  .action(async (file: string, opts: { seed?: number; strict?: boolean; engine: EngineName }) => {
    const controller = new AbortController();
    let signals = 0;
    const onSignal = (sig: NodeJS.Signals) => {
      signals++;
      if (signals === 1) {
        process.stderr.write(`\n${sig}: stopping; removing this run's containers and networks (again to force exit)\n`);
        controller.abort(new Error(sig));
      } else process.exit(130);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    const display = progressDisplay();
    const started = Date.now();
    try {
      const outcome = await runScenario(file, {
        resultsDir,
        events: display,
        signal: controller.signal,
        engine: opts.engine,
        ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
      });
      display.stop();
      const secs = Math.round((Date.now() - started) / 1000);
      if (outcome.status === "complete") {
        console.log(outcome.markdown ?? "");
        console.log(`\nrun ${outcome.runId} complete in ${secs} s: ${path.relative(process.cwd(), outcome.dir)}`);
        const failed = outcome.summary?.cells.filter((c) => c.status !== "ok").length ?? 0;
        if (failed > 0) {
          console.error(`${failed} cell(s) failed; see their summaries`);
          process.exitCode = 2;
        }
        const problems = outcome.summary ? runProblems(outcome.summary) : { clientBound: [], machineBusy: [] };
        for (const p of [...problems.clientBound, ...problems.machineBusy]) console.error(`warning: ${p}`);
        if (opts.strict && problems.clientBound.length + problems.machineBusy.length > 0 && !process.exitCode) {
          console.error("--strict: these figures are not the server's alone");
          process.exitCode = 3;
        }
      } else {
        console.error(`run ${outcome.runId} interrupted after ${secs} s; kept as ${path.relative(process.cwd(), outcome.dir)}`);
        process.exitCode = 130;
      }
    } finally {
      display.stop();
    }
  });

program
  .command("plan")
  .description("validate a scenario and print its cells in run order, without starting anything")
  .argument("<scenario>", "scenario file (YAML)")
  .option("--seed <n>", "seed of the cell order", parseSeed)
  .option("--engine <name>", `check the scenario against an engine: ${ENGINES.join(" or ")}`, engineName, "compose")
  .option("--images", "print only the images its cells run, on one line (what npm run swarm:up needs)")
  .action(async (file: string, opts: { seed?: number; engine: EngineName; images?: boolean }) => {
    const { scenario, expansion } = await planScenario(file, opts.seed);
    checkEngine(engineFor(opts.engine), scenario);
    if (opts.images) return console.log(scenarioImages(scenario).join(" "));
    console.log(`${scenario.name}: ${expansion.cells.length} cells, seed ${expansion.seed}`);
    for (const c of expansion.cells) console.log(`  ${c.order + 1}. ${c.id}`);
    const loadS = expansion.cells.reduce((a, c) => a + c.workload.warmupMs + c.workload.durationMs, 0) / 1000;
    console.log(`load time ${Math.round(loadS)} s, plus about 10 s per cell to bring up, verify and tear down`);
  });

program
  .command("results")
  .description("list archived runs and rewrite results/index.html")
  .option("--json", "as JSON")
  .action(async (opts: { json?: boolean }) => {
    const runs = await listRuns(resultsDir);
    // The page (and the compare pages it links) follows the archive even when a run's own rewrite failed.
    const page = runs.length > 0 ? await writeIndexPage(resultsDir) : undefined;
    if (opts.json) return console.log(JSON.stringify(runs, null, 2));
    if (runs.length === 0) return console.log("no runs yet; try: npm run lab -- run loadtests/scenarios/smoke.yaml");
    for (const r of runs) {
      console.log([r.dir ?? r.id, r.status, r.scenario ?? "", `${r.cells ?? "?"} cells`].join("  "));
    }
    if (page) console.error(`HTML index: ${shownPath(page)}`);
  });

/** Relative to the working folder when inside it, else absolute. */
function shownPath(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel.startsWith("..") || path.isAbsolute(rel) ? path.resolve(p) : rel;
}

async function resolveRun(ref: string): Promise<string> {
  const candidates = [ref, path.join(resultsDir, ref)];
  for (const c of candidates) {
    try {
      await access(path.join(c, "summary.json"));
      return c;
    } catch {
      /* next */
    }
  }
  const runs = await listRuns(resultsDir);
  const match = runs.filter((r) => (r.dir ?? r.id).startsWith(ref) || r.id === ref);
  if (match.length === 1 && match[0]) return path.join(resultsDir, match[0].dir ?? match[0].id);
  throw new UserError(`no complete run "${ref}" (see: lab results)`);
}

async function readSummary(dir: string) {
  return RunSummarySchema.parse(JSON.parse(await readFile(path.join(dir, "summary.json"), "utf8")));
}

program
  .command("report")
  .description("print a run's Markdown summary and (re)write its HTML report")
  .argument("<run>", "run id or folder (a unique prefix is enough)")
  .action(async (ref: string) => {
    const dir = await resolveRun(ref);
    const summary = await readSummary(dir);
    console.log(renderMarkdown(summary));
    const html = path.join(dir, "report.html");
    await writeFile(html, renderHtml(summary, { chartJs: await readChartJs() }));
    console.error(`HTML report: ${path.relative(process.cwd(), html)}`);
  });

program
  .command("compare")
  .description("compare two runs of the same scenario, cell by cell (Markdown; the HTML page goes to results/compare/)")
  .argument("<base>", "run id or folder")
  .argument("<next>", "run id or folder")
  .action(async (a: string, b: string) => {
    const [baseDir, nextDir] = await Promise.all([resolveRun(a), resolveRun(b)]);
    const [base, next] = await Promise.all([readSummary(baseDir), readSummary(nextDir)]);
    console.log(renderComparisonMarkdown(compareRuns(base, next)));
    const html = await writeComparePage(resultsDir, baseDir, nextDir, { base, next });
    console.error(`HTML comparison: ${shownPath(html)}`);
  });

program
  .command("clean")
  .description("remove every container and network any lab run left behind")
  .action(async () => {
    const r = await sweepByLabel(runLabel());
    console.log(`removed ${r.containers} container(s) and ${r.networks} network(s)`);
  });

program
  .command("export")
  .description("write a scenario's cells for another engine")
  .command("k8s")
  .description("write Kubernetes manifests for a scenario's cells, one YAML file per cell (docs/KUBERNETES.md)")
  .argument("<scenario>", "scenario file (YAML)")
  .option("--cell <id>", "only this cell (an id from lab plan)")
  .option("--out <dir>", "output folder (default: results/k8s-<scenario>)")
  .option("--registry <prefix>", "prefix every image: <prefix>/fiblab/<name>:latest")
  .option("--namespace <name>", "namespace of every object", "fiblab")
  .option("--results-claim <name>", "PersistentVolumeClaim the clients write their results to", "fiblab-results")
  .option("--start-at <epoch-ms>", "the Node clients' common start (START_AT); default: each starts with its pod", parseSeed)
  .option("--seed <n>", "seed of the cell order and the clients' draws", parseSeed)
  .option(
    "--capacity <req/s>",
    'what relative rates ("80%") are shares of, measured on the cluster (a lab run probes it itself)',
    parseRate,
  )
  .action(
    async (
      file: string,
      opts: {
        cell?: string;
        out?: string;
        registry?: string;
        namespace: string;
        resultsClaim: string;
        startAt?: number;
        seed?: number;
        capacity?: number;
      },
    ) => {
      const { exportK8s } = await import("./export/k8s-write.js");
      const name = path.basename(file).replace(/\.ya?ml$/, "");
      const outDir = path.resolve(opts.out ?? path.join(resultsDir, `k8s-${name}`));
      const r = await exportK8s({ scenarioFile: file, outDir, ...opts });
      console.log(
        `${path.relative(process.cwd(), r.dir) || "."}: ${r.files.length - 2} cell file(s), ${r.files[0]}, export.json (seed ${r.seed})`,
      );
      for (const note of r.notes) console.error(`lab: note: ${note}`);
    },
  );

try {
  await program.parseAsync();
} catch (err) {
  // A bad scenario or a missing file is the user's to fix: say what and where, without a stack trace.
  if (!(err instanceof ScenarioError || err instanceof UserError)) throw err;
  console.error(`lab: ${err.message}`);
  process.exitCode = 1;
}
// Docker's HTTP agents and a cancelled sampler may hold the event loop open: the command is over.
// Writes to a pipe are asynchronous: exiting before they drain cuts a long `lab plan` short.
const drained = (stream: NodeJS.WriteStream) => new Promise<void>((resolve) => stream.write("", () => resolve()));
await Promise.all([drained(process.stdout), drained(process.stderr)]);
process.exit(process.exitCode ?? 0);
