/**
 * The live ops page (/ops): one self-contained HTML document — inline CSS and script, no build
 * step, no CDN, no font — that listens to /ops/events (server-sent events, one snapshot a second)
 * and falls back to polling /ops/state when the stream is refused or cut. Every value is written
 * with textContent: nothing from the server is ever parsed as HTML.
 */
export const OPS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ovation — live operations</title>
<link rel="icon" href="data:,">
<style>
  :root { color-scheme: light dark; --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --muted: #6e7781; }
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; }
  h1 { font-size: 1.3rem; margin: 0 0 .25rem; }
  h2 { font-size: 1rem; margin: 1.5rem 0 .5rem; }
  #status { color: var(--muted); }
  .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(11rem, 1fr)); gap: .75rem; }
  .card { border: 1px solid #8884; border-radius: 8px; padding: .6rem .8rem; }
  .card .label { color: var(--muted); font-size: .8rem; }
  .card .value { font-size: 1.6rem; font-variant-numeric: tabular-nums; }
  .ok { color: var(--ok); } .warn { color: var(--warn); } .bad { color: var(--bad); }
  table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
  th, td { text-align: right; padding: .25rem .5rem; border-bottom: 1px solid #8883; }
  th:first-child, td:first-child { text-align: left; font-family: ui-monospace, monospace; }
  .bar { display: inline-block; height: .6rem; background: #0969da; vertical-align: middle; margin-left: .4rem; }
  .empty { color: var(--muted); font-style: italic; }
</style>
</head>
<body>
<h1>ovation — live operations</h1>
<div id="status">connecting…</div>

<div class="cards">
  <div class="card"><div class="label">engine</div><div class="value" id="engine">–</div></div>
  <div class="card"><div class="label">live actors</div><div class="value" id="actors-live">–</div></div>
  <div class="card"><div class="label">active holds</div><div class="value" id="holds-active">–</div></div>
  <div class="card"><div class="label">payment gateway breaker</div><div class="value" id="breaker">–</div></div>
  <div class="card"><div class="label">outbox pending (oldest)</div><div class="value" id="outbox">–</div></div>
  <div class="card"><div class="label">charges pending (oldest)</div><div class="value" id="charges">–</div></div>
</div>

<h2>Hottest actors</h2>
<table id="actors">
  <thead><tr><th>schedule</th><th>heat (msg/s)</th><th>mailbox</th><th>holds</th><th>held seats</th><th>sold seats</th><th>journal seq</th><th>snapshot age</th></tr></thead>
  <tbody></tbody>
</table>

<h2>Waiting lines</h2>
<table id="queue">
  <thead><tr><th>concert</th><th>waiting</th><th>active</th><th>admitted (total)</th></tr></thead>
  <tbody></tbody>
</table>

<script>
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var text = function (id, value, tone) {
    var el = $(id);
    el.textContent = value;
    el.className = 'value' + (tone ? ' ' + tone : '');
  };
  var seconds = function (s) { return s < 60 ? s.toFixed(1) + ' s' : (s / 60).toFixed(1) + ' min'; };
  var cell = function (row, value) { var td = document.createElement('td'); td.textContent = value; row.appendChild(td); return td; };
  var fill = function (table, rows, columns, emptyText) {
    var body = $(table).tBodies[0];
    body.replaceChildren();
    if (rows.length === 0) {
      var tr = document.createElement('tr');
      var td = cell(tr, emptyText);
      td.colSpan = columns;
      td.className = 'empty';
      body.appendChild(tr);
      return [];
    }
    return rows.map(function () { var tr = document.createElement('tr'); body.appendChild(tr); return tr; });
  };

  function render(s) {
    text('engine', s.engine);
    text('actors-live', String(s.actors.live));
    text('holds-active', String(s.actors.activeHolds));
    var breaker = s.breakers.payment_gateway;
    text('breaker', breaker, breaker === 'closed' ? 'ok' : breaker === 'open' ? 'bad' : 'warn');
    if (s.outbox === null) text('outbox', 'unavailable', 'bad');
    else text('outbox', s.outbox.pending + ' (' + seconds(s.outbox.oldestAgeSeconds) + ')' + (s.outbox.relay === 'off' ? ' · relay off' : ''),
      s.outbox.oldestAgeSeconds > 60 ? 'bad' : s.outbox.oldestAgeSeconds > 5 ? 'warn' : 'ok');
    if (s.charges === null) text('charges', 'unavailable', 'bad');
    else text('charges', s.charges.pending + (s.charges.pending ? ' (' + seconds(s.charges.oldestAgeSeconds) + ')' : ''), s.charges.pending ? 'warn' : 'ok');

    var now = Date.parse(s.at);
    var maxHeat = Math.max.apply(null, [1].concat(s.actors.hottest.map(function (a) { return a.heat; })));
    fill('actors', s.actors.hottest, 8, 'no live actor').forEach(function (tr, i) {
      var a = s.actors.hottest[i];
      cell(tr, a.scheduleId);
      var heat = cell(tr, a.heat.toFixed(1));
      var bar = document.createElement('span');
      bar.className = 'bar';
      bar.style.width = Math.round((a.heat / maxHeat) * 80) + 'px';
      heat.appendChild(bar);
      cell(tr, String(a.mailboxDepth));
      cell(tr, String(a.activeHolds));
      cell(tr, String(a.heldSeats));
      cell(tr, String(a.soldSeats));
      cell(tr, String(a.journalSeq));
      cell(tr, a.lastSnapshotAt === null ? 'none' : seconds((now - Date.parse(a.lastSnapshotAt)) / 1000));
    });
    if (s.queue === null) {
      fill('queue', [], 4, 'the waiting line does not answer (Redis unavailable)');
    } else {
      fill('queue', s.queue, 4, 'nobody in line').forEach(function (tr, i) {
        var line = s.queue[i];
        cell(tr, line.concertId);
        cell(tr, String(line.waiting));
        cell(tr, String(line.active));
        cell(tr, String(line.admittedTotal));
      });
    }
    $('status').textContent = 'updated ' + new Date(s.at).toLocaleTimeString() + ' · ' + mode;
  }

  var mode = 'live (server-sent events)';
  var polling = null;
  function poll() {
    fetch('/ops/state', { cache: 'no-store' })
      .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
      .then(render)
      .catch(function (e) { $('status').textContent = 'disconnected: ' + e.message + ' (retrying)'; });
  }
  function startPolling() {
    if (polling !== null) return;
    mode = 'polling every 2 s';
    poll();
    polling = setInterval(poll, 2000);
  }
  if (!('EventSource' in window)) return startPolling();
  var events = new EventSource('/ops/events');
  events.addEventListener('snapshot', function (e) { render(JSON.parse(e.data)); });
  events.onerror = function () {
    // Refused (too many viewers) or cut: poll instead; the stream is not retried on top.
    events.close();
    startPolling();
  };
})();
</script>
</body>
</html>
`;
