// The flow inspector: a countdown to each token's exp, and the copy buttons of the curl commands.
// A static file, as the Content-Security-Policy (default-src 'self') allows no inline script.
(function () {
  "use strict";

  function span(seconds) {
    var days = Math.floor(seconds / 86400);
    var hours = Math.floor((seconds % 86400) / 3600);
    var minutes = Math.floor((seconds % 3600) / 60);
    var parts = [];
    if (days) parts.push(days + " d");
    if (days || hours) parts.push(hours + " h");
    if (days || hours || minutes) parts.push(minutes + " min");
    parts.push((seconds % 60) + " s");
    return parts.join(" ");
  }

  function tick() {
    var now = Math.floor(Date.now() / 1000);
    document.querySelectorAll(".countdown[data-exp]").forEach(function (element) {
      var left = Number(element.dataset.exp) - now;
      element.textContent = left > 0 ? "(expires in " + span(left) + ")" : "(expired " + span(-left) + " ago)";
      element.classList.toggle("expired", left <= 0);
    });
  }

  function select(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function copy(button) {
    var source = document.getElementById(button.dataset.copy);
    if (!source) return;
    var copied = function () {
      button.textContent = "Copied";
      window.setTimeout(function () { button.textContent = "Copy"; }, 2000);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(source.textContent).then(copied, function () { select(source); });
      return;
    }
    // Plain http on another host than localhost: no clipboard API; select, and try the old way.
    select(source);
    try {
      if (document.execCommand("copy")) copied();
    } catch (error) {
      // the text stays selected for Ctrl+C
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    window.setInterval(tick, 1000);
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () { copy(button); });
    });
  });
})();
