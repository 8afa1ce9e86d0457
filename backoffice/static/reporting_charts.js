// Pilotage: one bar chart per table (the period beside a year earlier), drawn with Chart.js from
// the figures the page's tables show; the tables stay the text alternative.
(function () {
  "use strict";
  var source = document.getElementById("report-charts");
  if (!source || !window.Chart) { return; }
  var charts = JSON.parse(source.textContent);
  document.querySelectorAll("canvas.report-chart").forEach(function (canvas) {
    var data = charts[canvas.getAttribute("data-chart")];
    if (!data) { return; }
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          { label: data.series[0], data: data.current, backgroundColor: "#0b5ed7" },
          { label: data.series[1], data: data.previous, backgroundColor: "#adb5bd" }
        ]
      },
      options: {
        animation: false,
        indexAxis: data.labels.length > 6 ? "y" : "x",
        plugins: { legend: { position: "bottom" } },
        scales: { x: { beginAtZero: true }, y: { beginAtZero: true } }
      }
    });
  });
})();
