// The export job page (templates/audits/reports/export_job.html): polls the job's status every two
// seconds and updates the progress, then shows the download link. Without script the page refreshes.
(function () {
  "use strict";
  var card = document.getElementById("export-job");
  if (!card || card.dataset.finished === "true") { return; }
  var url = card.dataset.statusUrl;
  var unit = document.getElementById("export-count").textContent.trim().split(" ").pop();
  function show(state) {
    document.getElementById("export-status").textContent = state.status_label;
    var bar = document.getElementById("export-progress");
    if (state.total !== null) { bar.max = state.total; bar.value = state.done; bar.hidden = false; }
    document.getElementById("export-count").textContent =
      state.done.toLocaleString() + (state.total !== null ? " of " + state.total.toLocaleString() : "") + " " + unit;
    var next = document.getElementById("export-next");
    if (state.status === "done") {
      next.textContent = "Ready. Downloading it is recorded in the audit ledger.";
      document.getElementById("export-download").hidden = false;
    } else if (state.status === "failed" || state.status === "expired") {
      next.textContent = state.error || "This export is no longer available.";
    } else if (state.error) {
      next.textContent = state.error;
    }
  }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { if (!response.ok) { throw new Error(String(response.status)); } return response.json(); })
      .then(function (state) {
        show(state);
        if (!state.finished) { window.setTimeout(poll, 2000); }
        else if (state.status === "done") { window.location.reload(); }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
