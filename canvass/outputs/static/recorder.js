/* canvass results recorder: one tap per person at the door, kept on the phone.
 *
 * The page's configuration is the JSON in #canvass-recorder (canvass/outputs/_recorder.py).
 * What is tapped goes into an append-only log in IndexedDB (localStorage where IndexedDB
 * cannot be opened), one record per action: a result ("ev", with its own event id), a
 * survey answer ("ans"), taking back an unsent result ("undo"), results sent ("sent").
 * The results are the fold of the log. Nothing leaves the phone unless the volunteer
 * shares or saves the CSV, or the page was opened from `canvass serve` (then results go
 * to the organiser's laptop). Needs no map and no connection. docs/results.md.
 */
(function () {
  'use strict';
  var cfgEl = document.getElementById('canvass-recorder');
  if (!cfgEl) { return; }
  var cfg = JSON.parse(cfgEl.textContent);
  var PAGE = cfg.page;
  var LS_KEY = 'canvass:log:' + PAGE;
  var meta = document.querySelector('meta[name="canvass-send"]');
  var endpoint = meta ? meta.getAttribute('content') : '';
  var store = null;
  var log = [];
  var byVoter = {};

  function $(id) { return document.getElementById(id); }

  function status(text) { $('rec-status').textContent = text; }

  function uuid() {
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' +
      h.slice(16, 20) + '-' + h.slice(20);
  }

  function pad(n) { return (n < 10 ? '0' : '') + n; }

  function isoLocal(d) {  // 2026-09-05T14:05:00-04:00
    var off = -d.getTimezoneOffset();
    var a = Math.abs(off);
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) +
      'T' + pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()) +
      (off >= 0 ? '+' : '-') + pad(Math.floor(a / 60)) + ':' + pad(a % 60);
  }

  /* ---- storage: IndexedDB, or localStorage ---- */
  function clearLocal() {
    Object.keys(localStorage).forEach(function (k) {
      if (k.indexOf('canvass:') === 0) { localStorage.removeItem(k); }
    });
  }

  function localStore() {
    function all() {
      try { return JSON.parse(localStorage.getItem(LS_KEY) || '[]'); } catch (e) { return []; }
    }
    return {
      kind: 'localStorage',
      all: function () { return Promise.resolve(all()); },
      add: function (recs) {
        try {
          localStorage.setItem(LS_KEY, JSON.stringify(all().concat(recs)));
          return Promise.resolve();
        } catch (e) { return Promise.reject(e); }
      },
      clear: function () { clearLocal(); return Promise.resolve(); }
    };
  }

  function openIndexedDB() {
    return new Promise(function (resolve, reject) {
      if (!window.indexedDB) { reject(new Error('no IndexedDB')); return; }
      var req;
      try { req = indexedDB.open('canvass', 1); } catch (e) { reject(e); return; }
      req.onupgradeneeded = function () {
        var os = req.result.createObjectStore('log', {autoIncrement: true});
        os.createIndex('page', 'page');
      };
      req.onerror = function () { reject(req.error); };
      req.onblocked = function () { reject(new Error('IndexedDB blocked')); };
      req.onsuccess = function () {
        var db = req.result;
        function tx(mode, fn) {
          return new Promise(function (ok, fail) {
            var t = db.transaction('log', mode, {durability: 'strict'});
            var r = fn(t.objectStore('log'));
            t.oncomplete = function () { ok(r ? r.result : undefined); };
            t.onerror = t.onabort = function () { fail(t.error); };
          });
        }
        resolve({
          kind: 'IndexedDB',
          all: function () { return tx('readonly', function (s) { return s.index('page').getAll(PAGE); }); },
          add: function (recs) {
            return tx('readwrite', function (s) { recs.forEach(function (r) { s.add(r); }); });
          },
          clear: function () {
            return tx('readwrite', function (s) { s.clear(); }).then(clearLocal);
          }
        });
      };
    });
  }

  function append(recs) {
    recs.forEach(function (r) { r.page = PAGE; r.at = isoLocal(new Date()); });
    return store.add(recs).then(function () {
      log = log.concat(recs);
      render();
    }, function (err) {
      status('Could not keep this on the phone (' + err + '): write it on the paper list.');
      throw err;
    });
  }

  /* ---- the results: the fold of the log ---- */
  function fold() {
    var events = [], byId = {}, undone = {}, sent = {};
    log.forEach(function (r) {
      if (r.k === 'ev') {
        var e = {r: r, answers: {}};
        events.push(e);
        byId[r.event_id] = e;
      } else if (r.k === 'ans' && byId[r.event_id]) {
        byId[r.event_id].answers[r.q] = r.a;
      } else if (r.k === 'undo') {
        undone[r.event_id] = true;
      } else if (r.k === 'sent') {
        r.ids.forEach(function (id) { sent[id] = r.via; });
      }
    });
    var live = events.filter(function (e) { return !undone[e.r.event_id]; });
    live.forEach(function (e) { e.sent = sent[e.r.event_id] || ''; });
    return live;
  }

  function csvCell(v) {
    var s = v === undefined || v === null ? '' : String(v);
    return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }

  function csv(events) {
    var lines = [cfg.columns.map(csvCell).join(',')];
    events.forEach(function (e) {
      var r = e.r;
      var row = [r.event_id, r.voter_id, cfg.run_id, cfg.route_id, r.door_id, r.time,
        r.result, r.volunteer, r.result === 'COME_BACK' ? (e.answers[COME_BACK_Q] || '') : ''];
      cfg.survey.forEach(function (q) {
        row.push(r.result === 'CONTACTED' ? (e.answers[q[0]] || '') : '');
      });
      lines.push(row.map(csvCell).join(','));
    });
    return lines.join('\n') + '\n';
  }

  /* ---- the page ---- */
  /* "Come back": when, kept as an answer to this pseudo-question (not a survey name). */
  var COME_BACK_Q = '@come_back';
  function answerRow(q, label, answers, forCode) {
    var row = document.createElement('div');
    row.className = 'answers';
    row.setAttribute('data-q', q);
    row.setAttribute('data-for', forCode);
    row.hidden = true;
    var span = document.createElement('span');
    span.className = 'q';
    span.textContent = label;
    row.appendChild(span);
    answers.forEach(function (a) {
      var b = document.createElement('button');
      b.type = 'button';
      b.setAttribute('data-answer', a[0]);
      b.textContent = a[1];
      row.appendChild(b);
    });
    return row;
  }

  function codeLabel(code) {
    for (var i = 0; i < cfg.codes.length; i++) {
      if (cfg.codes[i][0] === code) { return cfg.codes[i][2]; }
    }
    return code;
  }

  function build() {
    Object.keys(cfg.stops).forEach(function (n) {
      var stop = cfg.stops[n];
      var li = $('stop-' + n);
      if (!li) { return; }
      li.classList.add('has-rec');
      var links = li.lastElementChild;  // the map-app links stay last
      stop.people.forEach(function (p) {
        var box = document.createElement('div');
        box.className = 'rec';
        box.setAttribute('data-voter', p.id);
        box.setAttribute('data-door', stop.door);
        var who = document.createElement('div');
        who.className = 'rec-who';
        who.textContent = p.label + (p.unit ? ' (unit ' + p.unit + ')' : '') + ' ';
        var state = document.createElement('span');
        state.className = 'rec-state';
        who.appendChild(state);
        box.appendChild(who);
        var codes = document.createElement('div');
        codes.className = 'codes';
        cfg.codes.forEach(function (c) {
          var b = document.createElement('button');
          b.type = 'button';
          b.setAttribute('data-code', c[0]);
          b.title = c[2];
          b.textContent = c[2];
          codes.appendChild(b);
        });
        box.appendChild(codes);
        cfg.survey.forEach(function (q) {
          box.appendChild(answerRow(q[0], q[1], q[2].map(function (a) { return [a, a]; }),
            'CONTACTED'));
        });
        if (cfg.come_back && cfg.come_back.length) {
          box.appendChild(answerRow(COME_BACK_Q, 'Come back when?', cfg.come_back, 'COME_BACK'));
        }
        var undo = document.createElement('button');
        undo.type = 'button';
        undo.className = 'undo';
        undo.textContent = 'Undo';
        undo.hidden = true;
        box.appendChild(undo);
        li.insertBefore(box, links);
        byVoter[p.id] = box;
      });
    });
  }

  function render() {
    var live = fold();
    var latest = {};
    live.forEach(function (e) { latest[e.r.voter_id] = e; });
    Object.keys(byVoter).forEach(function (id) {
      var box = byVoter[id];
      var e = latest[id];
      box.querySelectorAll('button[data-code]').forEach(function (b) {
        b.classList.toggle('on', !!e && b.getAttribute('data-code') === e.r.result);
      });
      box.querySelectorAll('.answers').forEach(function (row) {
        var shown = !!e && e.r.result === row.getAttribute('data-for');
        row.hidden = !shown;
        var q = row.getAttribute('data-q');
        row.querySelectorAll('button').forEach(function (b) {
          b.classList.toggle('on', shown && e.answers[q] === b.getAttribute('data-answer'));
          b.disabled = shown && !!e.sent;
        });
      });
      box.querySelector('.undo').hidden = !e || !!e.sent;
      box.querySelector('.rec-state').textContent = !e ? '' :
        '· ' + codeLabel(e.r.result) + ' ' + e.r.time.slice(11, 16) +
        (e.sent ? ' · sent' : ' · not sent');
    });
    var unsent = live.filter(function (e) { return !e.sent; }).length;
    $('unsent').textContent = !live.length ? 'No results recorded yet.' :
      unsent ? unsent + (unsent === 1 ? ' result' : ' results') + ' not yet sent.' :
        'All ' + live.length + (live.length === 1 ? ' result' : ' results') + ' sent.';
    $('unsent').setAttribute('data-unsent', String(unsent));
    $('rec-send').disabled = !unsent;
  }

  function latestFor(voter) {
    var live = fold(), e = null;
    live.forEach(function (x) { if (x.r.voter_id === voter) { e = x; } });
    return e;
  }

  function newEvent(box, code) {
    return {
      k: 'ev', event_id: uuid(), voter_id: box.getAttribute('data-voter'),
      door_id: box.getAttribute('data-door'), time: isoLocal(new Date()), result: code,
      volunteer: cfg.volunteer
    };
  }

  /* A contact is sent by itself once its answers are in (or after SETTLE_MS), so
   * that answers tapped just after "Contacted" go with it; a "come back" once its
   * time is in (or after SETTLE_MS); other results at once. */
  var SETTLE_MS = 180000;
  function settled(e) {
    if (e.r.result === 'COME_BACK' && cfg.come_back && cfg.come_back.length) {
      if (e.answers[COME_BACK_Q]) { return true; }
    } else if (e.r.result !== 'CONTACTED') {
      return true;
    } else if (cfg.survey.every(function (q) { return e.answers[q[0]]; })) {
      return true;
    }
    return Date.now() - Date.parse(e.r.time) > SETTLE_MS;
  }

  var sendTimer = null;
  function soon() {
    if (!endpoint) { return; }
    clearTimeout(sendTimer);
    sendTimer = setTimeout(function () { send(true); }, 1500);
  }

  function onTap(ev) {
    var b = ev.target.closest('button');
    var box = b && b.closest('.rec');
    if (!box || !store) { return; }
    var voter = box.getAttribute('data-voter');
    var e = latestFor(voter);
    if (b.hasAttribute('data-code')) {
      append([newEvent(box, b.getAttribute('data-code'))]).then(soon);
    } else if (b.hasAttribute('data-answer')) {
      var q = b.parentNode.getAttribute('data-q');
      var a = b.getAttribute('data-answer');
      if (e && e.r.result === b.parentNode.getAttribute('data-for') && !e.sent) {
        append([{k: 'ans', event_id: e.r.event_id, q: q, a: e.answers[q] === a ? '' : a}]).then(soon);
      }
    } else if (b.classList.contains('undo') && e && !e.sent) {
      append([{k: 'undo', event_id: e.r.event_id}]);
    }
  }

  function markSent(events, via) {
    return append([{k: 'sent', via: via, ids: events.map(function (e) { return e.r.event_id; })}]);
  }

  function send(auto) {
    var todo = fold().filter(function (e) { return !e.sent && (!auto || settled(e)); });
    if (!endpoint || !todo.length) { return Promise.resolve(); }
    return fetch(endpoint, {
      method: 'POST', cache: 'no-store', credentials: 'omit',
      headers: {'Content-Type': 'text/csv; charset=utf-8'}, body: csv(todo)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (!r.ok) { throw new Error(j.error || 'HTTP ' + r.status); }
        return markSent(todo, 'laptop').then(function () {
          status('Sent ' + todo.length + ' to the laptop' +
            (j.rejected ? ' (' + j.rejected + ' not accepted; the organiser sees why).' : '.'));
        });
      });
    }).catch(function (err) {
      status((auto ? '' : 'Not sent: ') + 'the laptop is not reachable (' + err.message +
        '). Use “Share / save results” and send the file.');
    });
  }

  function download(text, name) {
    var url = URL.createObjectURL(new Blob([text], {type: 'text/csv'}));
    var a = document.createElement('a');
    a.href = url;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(url); a.remove(); }, 2000);
  }

  function share() {
    var live = fold();
    if (!live.length) { status('Nothing recorded yet.'); return; }
    var d = new Date();
    var name = 'results-' + cfg.route_id.replace(/[^A-Za-z0-9_-]/g, '_') + '-' +
      d.getFullYear() + pad(d.getMonth() + 1) + pad(d.getDate()) + '-' +
      pad(d.getHours()) + pad(d.getMinutes()) + '.csv';
    var text = csv(live);
    var file = null;
    try { file = new File([text], name, {type: 'text/csv'}); } catch (e) { file = null; }
    if (file && navigator.canShare && navigator.share && navigator.canShare({files: [file]})) {
      navigator.share({files: [file], title: 'Canvass results, route ' + cfg.route_id}).then(
        function () { markSent(live, 'csv'); status('Shared ' + name + '.'); },
        function (err) {
          if (err && err.name === 'AbortError') { return; }
          download(text, name);
          markSent(live, 'csv');
          status('Saved ' + name + ': send it to your organiser.');
        });
    } else {
      download(text, name);
      markSent(live, 'csv');
      status('Saved ' + name + ': send it to your organiser.');
    }
  }

  function clearDevice() {
    var unsent = fold().filter(function (e) { return !e.sent; }).length;
    var ask = 'Delete every result kept on this device?' +
      (unsent ? ' ' + unsent + ' of them are not yet sent and will be lost.' : '');
    if (!window.confirm(ask)) { return; }
    store.clear().then(function () {
      log = [];
      render();
      status('Cleared: no results are kept on this device.');
    }, function (err) { status('Could not clear: ' + err); });
  }

  function start(s) {
    store = s;
    return store.all().then(function (recs) {
      log = recs || [];
      render();
      status('Kept on this device (' + store.kind + ')' +
        (endpoint ? '; sent to the laptop when reachable.' : '.'));
      if (endpoint) { soon(); }
    });
  }

  build();
  document.addEventListener('click', onTap);
  $('rec-share').addEventListener('click', share);
  $('rec-clear').addEventListener('click', clearDevice);
  if (endpoint) {
    $('rec-send').hidden = false;
    $('rec-send').addEventListener('click', function () { send(false); });
    window.addEventListener('online', soon);
    setInterval(soon, 30000);
  }
  if (navigator.storage && navigator.storage.persist) {
    navigator.storage.persist().catch(function () {});
  }
  openIndexedDB().then(start).catch(function () { return start(localStore()); });
})();
