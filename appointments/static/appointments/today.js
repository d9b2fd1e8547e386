// The front desk's today (appointments/admin_today.py): reload when a colleague changes an
// appointment of the day shown. The page's socket ticket opens /ws/notifications/ (as an access
// token would: the subprotocol pair "bearer, <ticket>", never in the URL); when it expires the
// socket closes with 4401 and the reloaded page brings a fresh one.
(function () {
  "use strict";
  var root = document.getElementById("kn-desk-live");
  if (!root || !window.WebSocket) { return; }
  var status = document.getElementById("kn-live");
  var day = root.dataset.day, provider = root.dataset.provider;
  var dateOf = new Intl.DateTimeFormat("en-CA", {
    timeZone: root.dataset.zone, year: "numeric", month: "2-digit", day: "2-digit"
  });
  var reloading = null, retry = 1000;

  function shown(id) { return document.querySelector('tr[data-appointment="' + id + '"]') !== null; }

  function concerns(event) {
    var a = event && event.appointment;
    if (!a || (event.type !== "appointment.created" && event.type !== "appointment.updated")) { return false; }
    if (shown(a.id)) { return true; }  // a row of the page changed (or moved away)
    if (provider && String(a.provider_id) !== provider) { return false; }
    return dateOf.format(new Date(a.appointment_date)) === day;
  }

  function reloadSoon() {
    if (reloading === null) { reloading = setTimeout(function () { window.location.reload(); }, 300); }
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + "/ws/notifications/", ["bearer", root.dataset.ticket]);
    socket.onopen = function () { retry = 1000; if (status) { status.textContent = status.dataset.on; } };
    socket.onmessage = function (message) {
      var frame;
      try { frame = JSON.parse(message.data); } catch (e) { return; }
      var events = frame.type === "batch" ? frame.events : [frame];
      if (events.some(concerns)) { reloadSoon(); }
    };
    socket.onclose = function (closed) {
      if (status) { status.textContent = ""; }
      if (closed.code === 4401) { reloadSoon(); return; }  // the ticket expired: a fresh page, a fresh ticket
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    };
  }
  connect();
}());
