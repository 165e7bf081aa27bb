/**
 * The live ops page (/ops): one self-contained HTML document — inline CSS and script, no build
 * step, no CDN, no font. The page itself holds no data; it asks for the admin key (kept in the
 * tab's sessionStorage only) and reads /ops/events with it (server-sent events, one snapshot a
 * second, read through fetch because EventSource cannot send a header), polling /ops/state while
 * the stream is refused or cut and trying the stream again every 15 s. Every value is written with
 * textContent: nothing from the server is ever parsed as HTML. The route sends a CSP that allows
 * exactly this script and style (by their hashes) and connections to this origin only.
 */
import { createHash } from 'node:crypto';

const STYLE = `
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
  form#key { display: flex; gap: .5rem; align-items: center; margin: .75rem 0; }
  form#key[hidden] { display: none; }
  form#key input { font: inherit; padding: .25rem .4rem; min-width: 18rem; }

`;

const SCRIPT = `
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

  var mode = 'connecting';
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
      fill('queue', [], 5, 'the waiting line does not answer (Redis unavailable)');
    } else {
      fill('queue', s.queue, 5, 'nobody in line').forEach(function (tr, i) {
        var line = s.queue[i];
        cell(tr, line.concertId);
        cell(tr, String(line.prequeue));
        cell(tr, String(line.waiting));
        cell(tr, String(line.active));
        cell(tr, String(line.admittedTotal));
      });
    }
    $('status').textContent = 'updated ' + new Date(s.at).toLocaleTimeString() + ' · ' + mode;
  }

  // The admin key lives in this tab only (sessionStorage), and goes in a header, never in a URL.
  var key = sessionStorage.getItem('ovation-admin-key');
  var session = 0;
  function askForKey(message) {
    session++;
    key = null;
    sessionStorage.removeItem('ovation-admin-key');
    $('key').hidden = false;
    $('status').textContent = message;
  }
  function refused(response) {
    if (response.status === 403 || response.status === 401) { askForKey('the admin key was refused: enter it again'); return true; }
    return false;
  }

  var pollTimer = null;
  function stopPolling() { clearInterval(pollTimer); pollTimer = null; }
  function poll(mine) {
    if (mine !== session) return stopPolling();
    fetch('/ops/state', { cache: 'no-store', headers: { 'x-admin-key': key } })
      .then(function (r) { if (refused(r)) throw new Error('refused'); if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
      .then(function (s) { if (mine === session) render(s); })
      .catch(function (e) { if (mine === session && key) $('status').textContent = 'disconnected: ' + e.message + ' (retrying)'; });
  }
  function fallBack(mine) {
    if (mine !== session) return;
    mode = 'polling every 2 s';
    if (pollTimer === null) { poll(mine); pollTimer = setInterval(function () { poll(mine); }, 2000); }
    setTimeout(function () { stream(mine); }, 15000); // try the live stream again
  }

  // Server-sent events read through fetch: \`event: snapshot\` / \`data: {json}\` blocks.
  function stream(mine) {
    if (mine !== session) return;
    fetch('/ops/events', { cache: 'no-store', headers: { 'x-admin-key': key, accept: 'text/event-stream' } })
      .then(function (r) {
        if (refused(r)) return;
        if (!r.ok || !r.body) throw new Error('HTTP ' + r.status);
        stopPolling();
        mode = 'live (server-sent events)';
        var reader = r.body.getReader();
        var decoder = new TextDecoder();
        var buffered = '';
        function read() {
          return reader.read().then(function (chunk) {
            if (chunk.done || mine !== session) { reader.cancel(); throw new Error('stream ended'); }
            buffered += decoder.decode(chunk.value, { stream: true });
            var blocks = buffered.split('\\n\\n');
            buffered = blocks.pop();
            blocks.forEach(function (block) {
              var data = block.split('\\n').filter(function (l) { return l.indexOf('data: ') === 0; }).map(function (l) { return l.slice(6); }).join('\\n');
              if (block.indexOf('event: snapshot') === 0 && data) render(JSON.parse(data));
            });
            return read();
          });
        }
        return read();
      })
      .catch(function () { fallBack(mine); });
  }

  function start() {
    $('key').hidden = true;
    $('status').textContent = 'connecting…';
    stream(++session);
  }
  $('key').addEventListener('submit', function (event) {
    event.preventDefault();
    key = $('key-input').value;
    sessionStorage.setItem('ovation-admin-key', key);
    $('key-input').value = '';
    start();
  });
  if (key) start(); else askForKey('enter the admin key (X-Admin-Key) to see live figures');
})();
`;

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** Only this page's own script and style run; it may talk to this origin and nothing else. */
export const OPS_PAGE_CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const OPS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ovation — live operations</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<h1>ovation — live operations</h1>
<div id="status">connecting…</div>
<form id="key" hidden>
  <label for="key-input">admin key</label>
  <input id="key-input" type="password" autocomplete="off" required>
  <button type="submit">show</button>
</form>

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
  <thead><tr><th>concert</th><th>pre-queue</th><th>waiting</th><th>active</th><th>admitted (total)</th></tr></thead>
  <tbody></tbody>
</table>

<script>${SCRIPT}</script>
</body>
</html>
`;
