import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";

/**
 * chart.js's UMD build, to inline into the HTML report. The package does not export the file, so
 * it is found next to the package's resolved entry.
 */
export async function readChartJs(): Promise<string> {
  const entry = createRequire(import.meta.url).resolve("chart.js");
  return readFile(path.join(path.dirname(entry), "chart.umd.js"), "utf8");
}
