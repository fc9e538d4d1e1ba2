// The root credentials audit page (templates/audits/posture/root_audit.html): polls the run's status
// every two seconds and moves the progress on; reloads once the run has ended, to show each account.
// Without script the page refreshes itself.
(function () {
  "use strict";
  var card = document.getElementById("root-audit-run");
  if (!card || card.dataset.finished === "true") { return; }
  var url = card.dataset.statusUrl;
  function show(state) {
    document.getElementById("audit-status").textContent = state.status_label;
    var bar = document.getElementById("audit-progress");
    bar.max = Math.max(state.total, 1);
    bar.value = state.done;
    document.getElementById("audit-count").textContent = state.done + " of " + state.total + " accounts";
    if (state.error) { document.getElementById("audit-next").textContent = state.error; }
  }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { if (!response.ok) { throw new Error(String(response.status)); } return response.json(); })
      .then(function (state) {
        show(state);
        if (state.finished) { window.location.reload(); } else { window.setTimeout(poll, 2000); }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
