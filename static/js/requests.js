// Small enhancements of the request pages; every page works without them.
(function () {
  "use strict";

  // Countdown of an active session's time left (the server rendered the starting value).
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function updateCountdowns() {
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var left = Math.floor((Date.parse(el.getAttribute("datetime")) - Date.now()) / 1000);
      if (isNaN(left)) { return; }
      if (left <= 0) {
        el.textContent = "overdue";
        el.classList.add("badge", "badge-bad");
        return;
      }
      var h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
      el.textContent = (h ? h + ":" + pad(m) : m) + ":" + pad(s) + " left";
    });
  }
  if (document.querySelector("[data-countdown]")) {
    updateCountdowns();
    window.setInterval(updateCountdowns, 1000);
  }

  // New request form: show the AssumeRoot hint only for the chosen task, and the chosen
  // account's longest session as the duration's maximum.
  var task = document.getElementById("id_root_task");
  if (task) {
    var showHint = function () {
      var assumeRoot = task.value.indexOf("assume_root_") === 0;
      document.querySelectorAll("[data-hint-for]").forEach(function (hint) {
        var wanted = hint.getAttribute("data-hint-for");
        hint.hidden = wanted !== task.value && !(wanted === "assume_root_any" && assumeRoot);
      });
      // The bucket and queue fields only for their unlock task (a field with an error stays shown).
      document.querySelectorAll("[data-field-for]").forEach(function (field) {
        field.hidden = field.getAttribute("data-field-for") !== task.value && !field.querySelector(".errorlist");
      });
    };
    task.addEventListener("change", showHint);
    showHint();
  }
  var account = document.getElementById("id_account");
  var duration = document.getElementById("id_duration_minutes");
  if (account && duration) {
    var help = duration.parentNode.querySelector(".helptext");
    var showMax = function () {
      var option = account.options[account.selectedIndex];
      var max = option && option.getAttribute("data-max-minutes");
      if (max) {
        duration.max = max;
        if (help) { help.textContent = "At most " + max + " minutes for this account."; }
      }
    };
    account.addEventListener("change", showMax);
    showMax();
  }
})();
