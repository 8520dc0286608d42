/* relief-ledger pages: offline drafts and small enhancements. Every page works without this script.
 *
 * A form marked data-draft is sent with fetch. If the network is down, its
 * fields (with the idempotency key drawn with the form) are kept in this
 * browser (localStorage) and sent when the network returns; the key makes
 * the server file it once however often it is sent. A draft the server
 * refuses (a figure to fix, a written explanation needed) stays, and the
 * page offers to open it in its form.
 */
(function () {
  "use strict";
  var KEY = "relief-ledger-drafts";
  var sending = false;

  function load() { try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; } }
  function save(list) { localStorage.setItem(KEY, JSON.stringify(list)); }
  function csrf() { var m = document.querySelector('meta[name="csrf-token"]'); return m ? m.content : ""; }

  function banner(html) {
    var el = document.getElementById("network");
    if (!el) return;
    el.innerHTML = html || "";
    el.hidden = !html;
  }

  function fields(form) {
    var out = {};
    new FormData(form).forEach(function (v, k) { if (typeof v === "string") out[k] = v; });
    return out;
  }

  function body(values) {
    var data = new URLSearchParams();
    Object.keys(values).forEach(function (k) { data.append(k, k === "csrf_token" && csrf() ? csrf() : values[k]); });
    return data;
  }

  function show(response) {
    return response.text().then(function (html) {
      if (response.redirected) { window.location.assign(response.url); return; }
      document.open(); document.write(html); document.close();
    });
  }

  function keep(form, action) {
    var values = fields(form);
    var list = load().filter(function (d) { return d.values.idempotency_key !== values.idempotency_key; });
    list.push({ action: action, page: window.location.pathname + window.location.search, values: values,
                saved: new Date().toISOString(), refused: false });
    save(list);
    var note = form.querySelector(".draft-note");
    if (note) { note.textContent = "网络不可用：已在本机保存草稿，网络恢复后将自动发送（不会重复报送）。"; note.hidden = false; }
    describe();
  }

  function describe() {
    var list = load();
    if (!list.length) { if (navigator.onLine) banner(""); return; }
    var refused = list.filter(function (d) { return d.refused; });
    var waiting = list.length - refused.length;
    var parts = [];
    if (waiting) parts.push("有 " + waiting + " 份草稿等待网络恢复后发送。");
    refused.forEach(function (d, i) {
      parts.push('一份草稿被退回，需要修改：<a href="' + d.page + (d.page.indexOf("?") < 0 ? "?" : "&") +
                 "draft=" + encodeURIComponent(d.values.idempotency_key) + '">打开草稿</a>');
    });
    banner(parts.join(" "));
  }

  function sendDrafts() {
    if (sending || !navigator.onLine) return;
    var list = load().filter(function (d) { return !d.refused; });
    if (!list.length) { describe(); return; }
    sending = true;
    var draft = list[0];
    fetch(draft.action, { method: "POST", body: body(draft.values), credentials: "same-origin",
                          headers: { "X-Requested-With": "draft" } })
      .then(function (response) {
        var rest = load().filter(function (d) { return d.values.idempotency_key !== draft.values.idempotency_key; });
        if (response.ok && response.redirected) {
          save(rest);
          banner('草稿已发送：<a href="' + response.url + '">查看</a>');
        } else if (response.status >= 400 && response.status < 500 && response.status !== 401) {
          draft.refused = true;
          rest.push(draft);
          save(rest);
          describe();
        }
        sending = false;
        if (load().some(function (d) { return !d.refused; })) sendDrafts();
      })
      .catch(function () { sending = false; describe(); });
  }

  function restore() {
    var wanted = new URLSearchParams(window.location.search).get("draft");
    if (!wanted) return;
    var draft = load().filter(function (d) { return d.values.idempotency_key === wanted; })[0];
    var form = document.querySelector("form[data-draft]");
    if (!draft || !form) return;
    Object.keys(draft.values).forEach(function (k) {
      if (k === "csrf_token") return;
      var input = form.elements.namedItem(k);
      if (input && "value" in input) input.value = draft.values[k];
    });
    save(load().filter(function (d) { return d.values.idempotency_key !== wanted; }));
    var note = form.querySelector(".draft-note");
    if (note) { note.textContent = "已载入草稿，请按提示修改后提交。"; note.hidden = false; }
    describe();
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-draft")) return;
    event.preventDefault();
    var action = (event.submitter && event.submitter.getAttribute("formaction")) || form.getAttribute("action");
    if (!navigator.onLine) { keep(form, action); return; }
    // Photos chosen in the form go as multipart; a draft kept offline carries the typed values only.
    var files = Array.prototype.some.call(form.querySelectorAll("input[type=file]"),
                                          function (i) { return i.files && i.files.length; });
    var payload = files ? new FormData(form) : body(fields(form));
    if (files && csrf()) payload.set("csrf_token", csrf());
    fetch(action, { method: "POST", body: payload, credentials: "same-origin" })
      .then(show)
      .catch(function () { keep(form, action); });
  });

  // The 灾种 decides which indicator groups open first.
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.matches || !select.matches("select[data-open-groups]")) return;
    var open = JSON.parse(select.getAttribute("data-open-groups"))[select.value] || [];
    document.querySelectorAll("details[data-group]").forEach(function (d) {
      if (open.indexOf(d.getAttribute("data-group")) >= 0) d.open = true;
    });
  });

  window.addEventListener("online", function () { banner("网络已恢复，正在发送草稿…"); sendDrafts(); });
  window.addEventListener("offline", function () { banner("网络已断开：提交的报告将保存为草稿。"); });
  document.addEventListener("DOMContentLoaded", function () { restore(); describe(); sendDrafts(); });
  window.setInterval(sendDrafts, 10000);  // also when no "online" event comes (a server that was unreachable)
})();
