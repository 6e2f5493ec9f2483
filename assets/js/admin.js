// Admin helpers: instant table search with "Showing X of Y", the modal, and the ERP
// checklist (filter box, "All" excluding the individual names).
(function () {
  function applyFilter(input) {
    var table = document.querySelector(input.getAttribute("data-filter-table"));
    var counter = document.querySelector(input.getAttribute("data-filter-count"));
    if (!table) return;
    var q = input.value.trim().toLowerCase();
    var rows = table.querySelectorAll("tbody tr");
    var shown = 0;
    for (var i = 0; i < rows.length; i++) {
      var hit = !q || (rows[i].getAttribute("data-search") || "").indexOf(q) !== -1;
      rows[i].hidden = !hit;
      if (hit) shown++;
    }
    if (counter) counter.textContent = "Showing " + shown + " of " + rows.length;
  }
  document.addEventListener("input", function (ev) {
    var t = ev.target;
    if (t.matches && t.matches("[data-filter-table]")) applyFilter(t);
    if (t.matches && t.matches("[data-checklist-filter]")) {
      var list = document.querySelector(t.getAttribute("data-checklist-filter"));
      var q = t.value.trim().toLowerCase();
      if (!list) return;
      var items = list.querySelectorAll("[data-name]");
      for (var i = 0; i < items.length; i++) {
        items[i].hidden = q !== "" && items[i].getAttribute("data-name").indexOf(q) === -1;
      }
    }
  });
  // After htmx replaces the table, keep the search applied.
  document.addEventListener("htmx:afterSettle", function () {
    var input = document.querySelector("[data-filter-table]");
    if (input) applyFilter(input);
    var modal = document.getElementById("modal");
    if (modal) {
      modal.classList.toggle("open", modal.children.length > 0);
      var first = modal.querySelector("input[type=text], input[type=email]");
      if (first && modal.classList.contains("open") && !modal.contains(document.activeElement)) first.focus();
    }
  });
  document.addEventListener("change", function (ev) {
    var t = ev.target;
    if (t.matches && t.matches("[data-erp-all]")) {
      var boxes = document.querySelectorAll(".erp-checklist input[type=checkbox]");
      for (var i = 0; i < boxes.length; i++) {
        boxes[i].disabled = t.checked;
        if (t.checked) boxes[i].checked = false;
      }
    }
  });
  // The modal is a dialog: Tab stays inside it, Escape closes it, and the focus goes back
  // to the button that opened it.
  var opener = null;
  document.addEventListener("htmx:beforeRequest", function (ev) {
    var el = ev.detail && ev.detail.elt;
    if (el && el.getAttribute && el.getAttribute("hx-target") === "#modal" && !el.closest("#modal")) opener = el;
  });
  function modalOpen() {
    var modal = document.getElementById("modal");
    return modal && modal.classList.contains("open") ? modal : null;
  }
  function closeModal() {
    var modal = document.getElementById("modal");
    if (!modal) return;
    var wasOpen = modal.classList.contains("open");
    modal.innerHTML = "";
    modal.classList.remove("open");
    if (wasOpen && opener && document.contains(opener)) opener.focus();
    opener = null;
  }
  // A change that closed the modal from the server (the table and a message came back).
  document.addEventListener("htmx:afterSettle", function () {
    var modal = document.getElementById("modal");
    if (modal && !modal.classList.contains("open") && opener) {
      if (document.contains(opener)) opener.focus();
      opener = null;
    }
  });
  document.addEventListener("click", function (ev) {
    if (ev.target.closest && ev.target.closest("[data-modal-close]")) closeModal();
  });
  document.addEventListener("keydown", function (ev) {
    var modal = modalOpen();
    if (!modal) return;
    if (ev.key === "Escape") { ev.preventDefault(); closeModal(); return; }
    if (ev.key !== "Tab") return;
    var focusable = Array.prototype.filter.call(
      modal.querySelectorAll("a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])"),
      function (el) { return el.offsetParent !== null; });
    if (!focusable.length) return;
    var first = focusable[0], last = focusable[focusable.length - 1];
    var inside = modal.contains(document.activeElement);
    if (ev.shiftKey && (document.activeElement === first || !inside)) { ev.preventDefault(); last.focus(); }
    else if (!ev.shiftKey && (document.activeElement === last || !inside)) { ev.preventDefault(); first.focus(); }
  });

  // API page: copy a new token's secret; confirm a revoke; the explorer.
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest && ev.target.closest("[data-copy]");
    if (!btn) return;
    var src = document.querySelector(btn.getAttribute("data-copy"));
    if (!src || !navigator.clipboard) return;
    navigator.clipboard.writeText(src.textContent.trim()).then(function () {
      btn.textContent = "Copied";
    });
  });
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) ev.preventDefault();
    if (form.id !== "explorer") return;
    ev.preventDefault();
    var out = document.getElementById("explorer-result");
    var variables;
    try {
      variables = JSON.parse(document.getElementById("explorer-vars").value || "{}");
    } catch (e) {
      out.textContent = "Variables are not valid JSON: " + e.message;
      return;
    }
    var meta = document.querySelector('meta[name="csrf-token"]');
    out.textContent = "Running…";
    fetch("/graphql", {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/graphql-response+json, application/json",
        "X-CSRF-Token": meta ? meta.getAttribute("content") : ""
      },
      body: JSON.stringify({ query: document.getElementById("explorer-query").value, variables: variables })
    }).then(function (r) {
      return r.text().then(function (t) {
        try { t = JSON.stringify(JSON.parse(t), null, 2); } catch (e) { /* keep the text */ }
        out.textContent = "HTTP " + r.status + "\n" + t;
      });
    }).catch(function (e) { out.textContent = "Request failed: " + e.message; });
  });
})();
