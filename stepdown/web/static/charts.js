// Draws the Plotly figures whose specs a page embeds as JSON (no inline script: CSP 'self').
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-charts]").forEach(function (holder) {
    var specs = JSON.parse(document.getElementById(holder.dataset.charts).textContent);
    specs.forEach(function (fig) {
      var div = document.createElement("div");
      div.className = "chart";
      div.id = "chart-" + fig.id;
      holder.appendChild(div);
      Plotly.newPlot(div, fig.data, fig.layout, {displaylogo: false, responsive: true,
        modeBarButtonsToRemove: ["sendDataToCloud", "lasso2d", "select2d"]});
    });
  });
});
