// The revealed root password lives in the page only for PORTAL_REVEAL_SECONDS: then its text
// node is removed from the DOM (not just hidden), so it is no longer in the page, in a
// screenshot or in what "select all" copies. The response itself is sent with no-store.
(function () {
  "use strict";
  document.querySelectorAll("[data-reveal]").forEach(function (box) {
    var secret = box.querySelector("output");
    var copy = box.querySelector("[data-copy]");
    var seconds = parseInt(box.getAttribute("data-reveal-seconds"), 10) || 60;
    var note = document.querySelector("[data-reveal-note]");
    var hiddenNote = document.querySelector("[data-reveal-hidden]");
    var deadline = Date.now() + seconds * 1000;

    if (copy && navigator.clipboard) {
      copy.hidden = false;
      copy.addEventListener("click", function () {
        navigator.clipboard.writeText(secret.textContent).then(function () { copy.textContent = "Copied"; });
      });
    }

    function hide() {
      secret.textContent = "";
      if (copy) { copy.remove(); }
      // Removed, not only hidden: a countdown left at "1 s." would say the password is still there.
      if (note) { note.remove(); note = null; }
      if (hiddenNote) { hiddenNote.hidden = false; }
      // The back button must not offer to re-post the reveal: point this history entry at the
      // request page instead (a plain GET that never contains the password).
      var back = box.getAttribute("data-return-url");
      if (back && window.history && window.history.replaceState) { window.history.replaceState(null, "", back); }
    }

    function tick() {
      var left = Math.ceil((deadline - Date.now()) / 1000);
      if (left <= 0) { hide(); return; }
      if (note) { note.textContent = "Hidden again in " + left + " s."; }
      window.setTimeout(tick, 250);
    }
    tick();
  });
})();
