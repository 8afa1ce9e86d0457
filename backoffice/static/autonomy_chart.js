// The young person's autonomy level (1-4) at each completed interview, drawn with Chart.js.
(function () {
  "use strict";
  var data = document.getElementById("autonomy-data");
  var canvas = document.getElementById("autonomy-chart");
  if (!data || !canvas || !window.Chart) { return; }
  var series = JSON.parse(data.textContent);
  new window.Chart(canvas, {
    type: "line",
    data: {
      labels: series.labels.map(function (iso) { return iso.split("-").reverse().join("/"); }),
      datasets: [{ data: series.levels, stepped: false, tension: 0.2, borderColor: "#007bff",
                   backgroundColor: "#007bff", pointRadius: 4 }]
    },
    options: {
      animation: false,
      plugins: { legend: { display: false },
                 tooltip: { callbacks: { label: function (c) { return series.names[c.parsed.y - 1]; } } } },
      scales: { y: { min: 1, max: 4, ticks: { stepSize: 1,
                callback: function (v) { return v; } } } }
    }
  });
})();
