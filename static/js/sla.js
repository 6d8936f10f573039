// SLA and trends pages: draw each figure whose JSON sits in a
// <script type="application/json" id="chart-…"> next to its <div id="chart-…">.
(function () {
  "use strict";
  if (typeof Plotly === "undefined") { return; }
  document.querySelectorAll("figure.chart-figure").forEach(function (fig) {
    var div = fig.querySelector("div.chart");
    var data = fig.querySelector('script[type="application/json"]');
    if (!div || !data) { return; }
    var spec = JSON.parse(data.textContent);
    Plotly.newPlot(div, spec.data || [], spec.layout || {}, { responsive: true, displaylogo: false });
  });
})();
