// Draws the history chart from the canvas's data attributes (no inline script). A day
// nobody recorded is null: the line breaks there instead of inventing a value.
document.addEventListener("DOMContentLoaded", function () {
  var canvas = document.getElementById("history-chart");
  if (!canvas || typeof Chart === "undefined") return;
  var dark = document.documentElement.getAttribute("data-theme") === "dark";
  var text = dark ? "#e3e8ef" : "#1c2430";
  var grid = dark ? "rgba(255,255,255,.1)" : "rgba(0,0,0,.08)";
  new Chart(canvas, {
    type: "line",
    data: {
      labels: JSON.parse(canvas.getAttribute("data-labels")),
      datasets: [{
        label: "On hand",
        data: JSON.parse(canvas.getAttribute("data-values")),
        borderColor: "#0b5cad",
        backgroundColor: "rgba(11,92,173,.12)",
        fill: true,
        spanGaps: false,
        tension: 0.15,
        pointRadius: 0,
        pointHitRadius: 6
      }]
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      plugins: { legend: { display: false } },
      scales: {
        x: { ticks: { color: text, maxTicksLimit: 12 }, grid: { color: grid } },
        y: { beginAtZero: true, ticks: { color: text }, grid: { color: grid } }
      }
    }
  });
});
