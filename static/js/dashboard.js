/* Oversight dashboards (apps/reconciliation/dashboard.py, ADR 0013). Draws each chart with the vendored Apache
 * ECharts from the JSON block the page carries (id "dashboard-data"): the same rows as the table under each chart.
 * A static file, no inline script (the Content-Security-Policy forbids them). A click on a bar that has a link
 * (discrepancies by check or by enterprise) opens the discrepancy list filtered to that bar. */
(function () {
  "use strict";

  var PALETTE = ["#1d4f91", "#2e8b57", "#d08c00", "#c0392b", "#7d3c98", "#16a085", "#7f8c8d", "#e67e22", "#34495e"];

  // Tooltips drawn inside the canvas: ECharts' HTML tooltips carry style="" attributes, which the CSP blocks.
  function tooltip(trigger) {
    return { trigger: trigger, renderMode: "richText" };
  }

  function seriesFor(c, type, horizontal) {
    return c.series.map(function (col) {
      return {
        name: c.columns[col], type: type, stack: c.stack ? "total" : undefined,
        data: c.rows.map(function (row) { return row[col]; }),
        emphasis: { focus: "series" }, cursor: c.links && c.links.length ? "pointer" : "default"
      };
    });
  }

  function optionFor(c) {
    var categories = c.rows.map(function (row) { return String(row[0]); });
    var base = { color: PALETTE, animation: false, legend: { type: "scroll", top: 0 },
                 grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true } };
    if (c.kind === "sankey") {
      var names = {};
      var links = c.rows.filter(function (r) { return r[2] > 0; }).map(function (r) {
        names[r[0]] = true; names[r[1]] = true;
        return { source: r[0], target: r[1], value: r[2] };
      });
      return { color: PALETTE, animation: false, tooltip: tooltip("item"),
               series: [{ type: "sankey", left: 8, right: 120, data: Object.keys(names).map(function (n) {
                 return { name: n }; }), links: links, emphasis: { focus: "adjacency" },
                 lineStyle: { color: "gradient", curveness: 0.5 } }] };
    }
    if (c.kind === "hbar") {
      base.tooltip = tooltip("axis");
      base.tooltip.axisPointer = { type: "shadow" };
      base.xAxis = { type: "value" };
      base.yAxis = { type: "category", data: categories, inverse: true,
                     axisLabel: { width: 160, overflow: "truncate" } };
      base.series = seriesFor(c, "bar", true);
      return base;
    }
    base.tooltip = tooltip("axis");
    base.xAxis = { type: "category", data: categories,
                   axisLabel: c.kind === "line" ? {} : { interval: 0, width: 90, overflow: "break" } };
    base.yAxis = { type: "value" };
    base.series = seriesFor(c, c.kind === "line" ? "line" : "bar", false);
    return base;
  }

  function linkFor(c, params) {
    if (!c.links || !c.links.length || params.componentType !== "series") { return null; }
    var row = c.links[params.dataIndex];
    var col = c.series[params.seriesIndex];
    return row ? row[col - 1] || null : null;
  }

  function hasData(c) {
    if (c.kind === "sankey") { return c.rows.some(function (r) { return r[2] > 0; }); }
    return c.rows.length > 0;
  }

  function draw() {
    var block = document.getElementById("dashboard-data");
    if (!block || !window.echarts) { return; }
    var data = JSON.parse(block.textContent);
    var drawn = [];
    data.charts.forEach(function (c) {
      var box = document.querySelector('[data-chart="' + c.id + '"]');
      if (!box) { return; }
      if (!hasData(c)) {
        box.classList.add("chart-empty");
        box.textContent = data.labels.empty;
        return;
      }
      var chart = window.echarts.init(box, null, { renderer: "canvas" });
      chart.setOption(optionFor(c));
      chart.on("click", function (params) {
        var url = linkFor(c, params);
        if (url) { window.location.assign(url); }
      });
      box.setAttribute("data-drawn", "1");
      drawn.push(chart);
    });
    window.addEventListener("resize", function () { drawn.forEach(function (ch) { ch.resize(); }); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
}());
