// Draws the Plotly figures whose specs a page embeds as JSON (no inline script: CSP 'self').
// All chart boxes are laid out first, so each plot takes its final width.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-charts]").forEach(function (holder) {
    var specs = JSON.parse(document.getElementById(holder.dataset.charts).textContent);
    var boxes = specs.map(function (fig) {
      var div = document.createElement("div");
      div.className = "chart";
      div.id = "chart-" + fig.id;
      holder.appendChild(div);
      return div;
    });
    specs.forEach(function (fig, i) {
      Plotly.newPlot(boxes[i], fig.data, fig.layout, {displaylogo: false, responsive: true,
        modeBarButtonsToRemove: ["sendDataToCloud", "lasso2d", "select2d"]});
    });
  });
});
