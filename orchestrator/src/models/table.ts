import type { Manifest } from "./manifest.js";

/** A plain-text table of the catalog for `lab models`. */
export function formatModelTable(catalog: Manifest[]): string {
  const rows = catalog.map((m) => [
    m.name + (m.kind === "calibration" ? " (calibration)" : ""),
    m.strategy,
    m.protocols.join("+"),
    m.master ? "yes" : "no",
    Object.entries(m.knobs)
      .map(([k, v]) => `${k}=${v.default}`)
      .join(" ") || "-",
    m.description,
  ]);
  const header = ["model", "strategy", "protocols", "master", "knobs (defaults)", "description"];
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  ");
  return [fmt(header), widths.map((w, i) => "-".repeat(i === header.length - 1 ? 11 : w)).join("  "), ...rows.map(fmt)].join("\n");
}
