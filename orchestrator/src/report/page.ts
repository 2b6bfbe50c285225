/** The run report's and the comparison's HTML pages share how text and data are made safe, and the page around them. */

export interface HtmlAssets {
  /** Text of chart.js's UMD build. */
  chartJs: string;
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

/** Inside <script>, only "</script" (and "<!--") can end the element early. */
function scriptSafe(js: string): string {
  return js.replace(/<\/script/gi, "<\\/script").replace(/<!--/g, "<\\!--");
}

function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

export interface ChartPage {
  title: string;
  style: string;
  body: readonly string[];
  /** Embedded as JSON script elements by id, for `draw` to read; an undefined one is left out. */
  data: Record<string, unknown>;
  draw: string;
}

/** A self-contained page: chart.js is inlined, so it needs no network (and works from file://). */
export function chartPage(page: ChartPage, assets: HtmlAssets): string {
  const data = Object.entries(page.data)
    .filter(([, value]) => value !== undefined)
    .map(([id, value]) => `<script id="${id}" type="application/json">${jsonForScript(value)}</script>\n`)
    .join("");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(page.title)}</title>
<style>${page.style}</style>
</head>
<body>
${page.body.join("\n")}
${data}<script>${scriptSafe(assets.chartJs)}</script>
<script>${page.draw}</script>
</body>
</html>
`;
}
