// Draws the logins-per-day chart from the canvas's data attributes (no inline script).
document.addEventListener("DOMContentLoaded", function () {
  var canvas = document.getElementById("logins-chart");
  if (!canvas || typeof Chart === "undefined") return;
  var dark = document.documentElement.getAttribute("data-theme") === "dark";
  var text = dark ? "#e3e8ef" : "#1c2430";
  var grid = dark ? "rgba(255,255,255,.1)" : "rgba(0,0,0,.08)";
  new Chart(canvas, {
    type: "line",
    data: {
      labels: JSON.parse(canvas.getAttribute("data-labels")),
      datasets: [{
        label: "Logins",
        data: JSON.parse(canvas.getAttribute("data-values")),
        borderColor: "#0b5cad",
        backgroundColor: "rgba(11,92,173,.15)",
        fill: true,
        tension: 0.25,
        pointRadius: 3
      }]
    },
    options: {
      animation: false,
      plugins: { legend: { display: false } },
      scales: {
        x: { ticks: { color: text }, grid: { color: grid } },
        y: { beginAtZero: true, ticks: { color: text, precision: 0 }, grid: { color: grid } }
      }
    }
  });
});
