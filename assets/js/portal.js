// Small helpers shared by every page. htmx requests carry the CSRF token from the page's
// <meta name="csrf-token"> as X-CSRF-Token.
(function () {
  function csrfToken() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }
  document.addEventListener("htmx:configRequest", function (ev) {
    ev.detail.headers["X-CSRF-Token"] = csrfToken();
  });

  // Messages: a close button on each, and confirmations fade away by themselves (also
  // those that arrive in an htmx swap).
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest && ev.target.closest("[data-dismiss]");
    if (btn) {
      var box = btn.closest(".alert");
      if (box) box.remove();
    }
  });
  function armAutohide(root) {
    (root || document).querySelectorAll("[data-autohide]").forEach(function (el) {
      if (el.dataset.armed) return;
      el.dataset.armed = "1";
      setTimeout(function () { el.remove(); }, parseInt(el.dataset.autohide, 10) || 8000);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { armAutohide(document); });

  // Phones: the navbar folds into a menu.
  document.addEventListener("DOMContentLoaded", function () {
    var bar = document.querySelector(".navbar");
    if (bar) bar.classList.add("nav-collapsible");
  });
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest && ev.target.closest("[data-nav-toggle]");
    if (!btn) return;
    var bar = btn.closest(".navbar");
    var open = bar.classList.toggle("menu-open");
    btn.setAttribute("aria-expanded", open ? "true" : "false");
  });
  document.addEventListener("htmx:afterSettle", function (ev) { armAutohide(ev.target); });
})();
