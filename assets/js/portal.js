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
})();
