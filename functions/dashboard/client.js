// The dashboard's own script, served from the coordinator (`/dashboard/assets/app.js`; no inline
// script, no CDN): draws the charts a page declares with uPlot and, on pages that ask for it,
// refreshes the page's main section in place. Edit here, then `npm run dashboard:assets`.
(() => {
  "use strict";
  const charts = [];

  /** Every `[data-chart]` element under `root` names the JSON block that holds its chart. */
  function draw(root) {
    for (const chart of charts.splice(0)) chart.destroy();
    for (const el of root.querySelectorAll("[data-chart]")) {
      const block = document.getElementById(el.dataset.chart);
      if (!block) continue;
      const spec = JSON.parse(block.textContent);
      el.textContent = "";
      const dots = spec.kind === "dots";
      const xAxis = { label: spec.xLabel };
      // Whole-number x (model versions, sites): ticks on whole numbers only, named when the spec names them.
      if (spec.integerX || spec.xTicks) xAxis.incrs = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];
      if (spec.xTicks) xAxis.values = (_u, splits) => splits.map((v) => spec.xTicks[v - 1] ?? "");
      const x = dots ? { time: false, range: [0.5, spec.x.length + 0.5] } : { time: false };
      const options = {
        width: Math.max(320, el.clientWidth || 640),
        height: 240,
        title: spec.title,
        legend: { live: false },
        scales: { x, y: spec.yRange ? { range: spec.yRange } : {} },
        axes: [xAxis, { label: spec.yLabel }],
        series: [
          { label: spec.xLabel },
          ...spec.series.map((s) => (dots
            ? { label: s.label, stroke: s.color, fill: s.color, paths: () => null, points: { show: true, size: 10, fill: s.color } }
            : { label: s.label, stroke: s.color, width: 2, spanGaps: true, points: { show: spec.x.length < 40 } })),
        ],
      };
      charts.push(new uPlot(options, [spec.x, ...spec.series.map((s) => s.values)], el));
    }
  }

  /** Fetches the page's main section again and puts it in place; a session that ended (401) leaves the page and says so. */
  async function refresh(main) {
    if (document.hidden) return;
    const res = await fetch(`${location.pathname}?fragment=main`, { credentials: "same-origin", headers: { accept: "text/html" } });
    if (res.status === 401) {
      main.dataset.refresh = "0";
      const note = document.getElementById("live");
      if (note) note.textContent = "signed out: reload to sign in again";
      return;
    }
    if (!res.ok) return;
    main.innerHTML = await res.text();
    draw(main);
    const note = document.getElementById("live");
    if (note) note.textContent = `updated ${new Date().toLocaleTimeString()}`;
  }

  draw(document);
  const main = document.querySelector("main[data-refresh]");
  const every = Number(main?.dataset.refresh ?? 0);
  if (main && every > 0) {
    const tick = () => {
      if (main.dataset.refresh === "0") return;
      refresh(main).catch(() => undefined).finally(() => setTimeout(tick, every));
    };
    setTimeout(tick, every);
  }
})();
