// LeadRelay's admin page: plain JavaScript over the admin API, no framework and nothing loaded from elsewhere.
// Every value from a webhook is typed by a subscriber, so it is only ever put on the page as text (textContent,
// never parsed as markup); the Content-Security-Policy header forbids any other script anyway.
'use strict';

(function () {
  const TOKEN_KEY = 'leadrelay.adminToken';
  const PREVIEW_KEY = 'leadrelay.previewPayload';
  const PAGE_SIZE = 50;
  const view = document.getElementById('view');
  const login = document.getElementById('login');
  const nav = document.getElementById('nav');
  let timers = [];

  // ---- building the page from text only ----

  /** An element with attributes and children; strings become text nodes, never markup. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([key, value]) => {
      if (value === null || value === undefined || value === false) {
        return;
      }
      if (key === 'text') {
        node.textContent = String(value);
      } else if (key.startsWith('on')) {
        node.addEventListener(key.substring(2), value);
      } else {
        node.setAttribute(key, value === true ? '' : String(value));
      }
    });
    children.flat().forEach(child => {
      if (child === null || child === undefined || child === false) {
        return;
      }
      node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
    });
    return node;
  }

  function clear(node) {
    while (node.firstChild) {
      node.removeChild(node.firstChild);
    }
  }

  function show(...children) {
    clear(view);
    children.flat().filter(Boolean).forEach(child => view.appendChild(child));
  }

  function time(iso) {
    if (!iso) {
      return '—';
    }
    const date = new Date(iso);
    return isNaN(date) ? String(iso) : date.toLocaleString();
  }

  function age(seconds) {
    if (seconds === null || seconds === undefined) {
      return '—';
    }
    if (seconds < 120) {
      return seconds + ' s';
    }
    if (seconds < 7200) {
      return Math.round(seconds / 60) + ' min';
    }
    return Math.round(seconds / 3600) + ' h';
  }

  /** Only the relay's own links to the portal (http or https) become links. */
  function safeUrl(url) {
    return typeof url === 'string' && /^https?:\/\//i.test(url) ? url : null;
  }

  function stateBadge(state) {
    return el('span', {class: 'state state-' + String(state || '').toLowerCase(), text: state || '—'});
  }

  function message(text, kind) {
    return el('p', {class: kind || 'note', role: kind === 'error' ? 'alert' : null, text: text});
  }

  // ---- the API ----

  function token() {
    return sessionStorage.getItem(TOKEN_KEY);
  }

  class ApiError extends Error {
    constructor(status, body) {
      super(body && body.message ? body.message : 'The relay answered HTTP ' + status + '.');
      this.status = status;
      this.body = body;
    }
  }

  async function api(method, path, body, contentType) {
    const headers = {'Authorization': 'Bearer ' + token()};
    if (body !== undefined) {
      headers['Content-Type'] = contentType || 'application/json';
    }
    let response;
    try {
      response = await fetch(path, {method: method, headers: headers, body: body, credentials: 'omit',
        cache: 'no-store'});
    } catch (e) {
      throw new ApiError(0, {message: 'The relay cannot be reached: ' + e.message});
    }
    let json = null;
    try {
      json = await response.json();
    } catch (e) {
      json = null;
    }
    if (response.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      showLogin(json && json.message ? json.message : 'The admin token is wrong.');
      throw new ApiError(401, json);
    }
    if (!response.ok) {
      throw new ApiError(response.status, json);
    }
    return json;
  }

  function query(params) {
    const search = new URLSearchParams();
    Object.entries(params).forEach(([key, value]) => {
      if (value !== null && value !== undefined && value !== '') {
        search.set(key, value);
      }
    });
    const text = search.toString();
    return text ? '?' + text : '';
  }

  // ---- log in and out ----

  function showLogin(error) {
    stopTimers();
    nav.hidden = true;
    view.hidden = true;
    login.hidden = false;
    document.getElementById('login-error').textContent = error || '';
    document.getElementById('token').focus();
  }

  document.getElementById('login-form').addEventListener('submit', async event => {
    event.preventDefault();
    const input = document.getElementById('token');
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    input.value = '';
    try {
      await api('GET', '/admin/deliveries?limit=1');
    } catch (e) {
      if (e.status !== 401) {
        document.getElementById('login-error').textContent = e.message;
      }
      return;
    }
    route();
  });

  document.getElementById('logout').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin('Logged out.');
  });

  // ---- routing: #/deliveries, #/deliveries/<id>, #/portals, #/preview, #/jobs/<id> ----

  function stopTimers() {
    timers.forEach(id => clearTimeout(id));
    timers = [];
  }

  function later(fn, ms) {
    timers.push(setTimeout(fn, ms));
  }

  function route() {
    stopTimers();
    if (!token()) {
      showLogin('');
      return;
    }
    login.hidden = true;
    nav.hidden = false;
    view.hidden = false;
    const hash = location.hash.replace(/^#/, '') || '/deliveries';
    const [path, search] = hash.split('?');
    const params = new URLSearchParams(search || '');
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    nav.querySelectorAll('a').forEach(a => a.classList.toggle('current', a.dataset.view === parts[0]));
    const views = {
      deliveries: () => parts[1] ? deliveryView(parts[1]) : listView(params),
      portals: () => portalsView(),
      preview: () => previewView(),
      jobs: () => jobView(parts[1])
    };
    (views[parts[0]] || views.deliveries)().catch(e => {
      if (e.status !== 401) {
        show(message(e.message, 'error'));
      }
    });
  }

  window.addEventListener('hashchange', route);

  // ---- deliveries ----

  function subscriberText(subscriber) {
    if (!subscriber) {
      return '—';
    }
    return [subscriber.name, subscriber.phone, subscriber.email].filter(Boolean).join(' · ') || '—';
  }

  /** A delivered lead's earlier error is history (shown with the attempts), not its state. */
  function lastError(row) {
    return row.state === 'DELIVERED' ? '' : row.lastError || '';
  }

  function leadCell(row) {
    if (row.leadId === null || row.leadId === undefined) {
      return '—';
    }
    const url = safeUrl(row.leadUrl);
    return url ? el('a', {href: url, target: '_blank', rel: 'noopener noreferrer', class: 'lead',
      text: String(row.leadId)}) : String(row.leadId);
  }

  function input(id, label, attrs) {
    return el('label', {for: id}, label, el('input', Object.assign({id: id, name: id}, attrs)));
  }

  /** datetime-local's value (local time) as an ISO instant, and back. */
  function toInstant(local) {
    return local ? new Date(local).toISOString() : '';
  }

  function toLocal(iso) {
    if (!iso) {
      return '';
    }
    const d = new Date(iso);
    if (isNaN(d)) {
      return '';
    }
    const pad = n => String(n).padStart(2, '0');
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + 'T' + pad(d.getHours()) + ':'
      + pad(d.getMinutes());
  }

  async function listView(params) {
    const filter = {
      q: params.get('q') || '', state: params.get('state') || '', integration: params.get('integration') || '',
      from: params.get('from') || '', to: params.get('to') || '', before: params.get('before') || ''
    };
    const form = el('form', {id: 'filters', class: 'filters', onsubmit: event => {
      event.preventDefault();
      const next = {
        q: document.getElementById('filter-q').value.trim(),
        state: document.getElementById('filter-state').value,
        integration: document.getElementById('filter-integration').value.trim(),
        from: toInstant(document.getElementById('filter-from').value),
        to: toInstant(document.getElementById('filter-to').value)
      };
      location.hash = '#/deliveries' + query(next);
    }},
      input('filter-q', 'Search', {type: 'search', value: filter.q, placeholder: 'phone, e-mail, name or id'}),
      el('label', {for: 'filter-state'}, 'State', el('select', {id: 'filter-state'},
        ['', 'PENDING', 'DELIVERED', 'DEAD'].map(s => el('option', {value: s, selected: s === filter.state,
          text: s || 'any'})))),
      input('filter-integration', 'Integration', {type: 'text', value: filter.integration}),
      input('filter-from', 'From', {type: 'datetime-local', value: toLocal(filter.from)}),
      input('filter-to', 'To', {type: 'datetime-local', value: toLocal(filter.to)}),
      el('button', {type: 'submit', id: 'search', text: 'Search'}));

    const answer = await api('GET', '/admin/deliveries' + query(Object.assign({limit: PAGE_SIZE}, filter)));
    const rows = answer.deliveries.map(row => el('tr', {class: 'row', 'data-id': row.id},
      el('td', {'data-label': 'Received'}, time(row.receivedAt)),
      el('td', {'data-label': 'Subscriber'}, el('a', {href: '#/deliveries/' + encodeURIComponent(row.id),
        class: 'open', text: subscriberText(row.subscriber)})),
      el('td', {'data-label': 'State'}, stateBadge(row.state)),
      el('td', {'data-label': 'Lead'}, leadCell(row)),
      el('td', {'data-label': 'Attempts', text: String(row.attempts)}),
      el('td', {'data-label': 'Last error', class: 'error-text', text: lastError(row)})));
    const table = rows.length === 0 ? message('No deliveries match.') : el('table', {id: 'deliveries'},
      el('thead', {}, el('tr', {}, ['Received', 'Subscriber', 'State', 'Lead', 'Attempts', 'Last error']
        .map(h => el('th', {scope: 'col', text: h})))),
      el('tbody', {}, rows));
    const pager = el('p', {class: 'pager'},
      filter.before ? el('a', {href: '#/deliveries' + query(Object.assign({}, filter, {before: ''})),
        text: '« Newest'}) : null,
      answer.next ? el('a', {id: 'next-page', href: '#/deliveries' + query(Object.assign({}, filter,
        {before: answer.next})), text: 'Older »'}) : null);
    const bulk = el('div', {class: 'bulk'},
      el('button', {type: 'button', id: 'bulk-replay', onclick: () => bulkReplay(filter),
        text: filter.q || filter.integration || filter.from || filter.to
          ? 'Replay the DEAD deliveries matching this filter' : 'Replay every DEAD delivery'}),
      el('span', {id: 'bulk-result', role: 'status'}));
    show(el('h1', {text: 'Deliveries'}), form, table, pager, bulk);
  }

  async function bulkReplay(filter) {
    const result = document.getElementById('bulk-result');
    const params = Object.assign({}, filter, {state: 'DEAD', before: ''});
    if (!confirm('Replay the DEAD deliveries matching this filter? Each is sent to Bitrix24 again.')) {
      return;
    }
    try {
      const answer = await api('POST', '/admin/deliveries/retry' + query(params));
      if (answer.job) {
        location.hash = '#/jobs/' + encodeURIComponent(answer.job.id);
      } else {
        result.textContent = answer.retried + ' deliveries replayed.';
      }
    } catch (e) {
      result.textContent = e.message;
    }
  }

  function keyValues(id, object) {
    const entries = Object.entries(object || {});
    if (entries.length === 0) {
      return message('Nothing.');
    }
    return el('table', {id: id, class: 'pairs'}, el('tbody', {}, entries.map(([key, value]) => el('tr', {},
      el('th', {scope: 'row', text: key}),
      el('td', {text: typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)})))));
  }

  async function deliveryView(id) {
    const d = await api('GET', '/admin/deliveries/' + encodeURIComponent(id));
    const replayable = d.state === 'DEAD' || d.state === 'PENDING';
    const result = el('p', {id: 'replay-result', role: 'status'});
    const summary = el('dl', {class: 'summary', id: 'summary'},
      el('dt', {text: 'Delivery'}), el('dd', {text: d.id}),
      el('dt', {text: 'State'}), el('dd', {id: 'delivery-state'}, stateBadge(d.state)),
      el('dt', {text: 'Integration'}), el('dd', {text: d.integration}),
      el('dt', {text: 'Subscriber'}), el('dd', {id: 'delivery-subscriber', text: subscriberText(d.subscriber)}),
      el('dt', {text: 'Received'}), el('dd', {text: time(d.receivedAt)}),
      el('dt', {text: 'Lead'}), el('dd', {id: 'delivery-lead'}, leadCell(d)),
      el('dt', {text: 'Attempts'}), el('dd', {text: String(d.attempts)}),
      el('dt', {text: 'Next attempt'}), el('dd', {text: d.state === 'PENDING' ? time(d.nextAttemptAt) : '—'}),
      el('dt', {text: 'Last error'}), el('dd', {id: 'last-error', class: 'error-text', text: lastError(d) || '—'}));
    const actions = el('div', {class: 'actions'},
      replayable ? el('button', {type: 'button', id: 'replay', onclick: () => replay(d.id, result),
        text: 'Replay'}) : null,
      d.payload ? el('button', {type: 'button', class: 'secondary', id: 'to-preview', onclick: () => {
        sessionStorage.setItem(PREVIEW_KEY, JSON.stringify(d.payload, null, 2));
        location.hash = '#/preview';
      }, text: 'Preview with the current mapping'}) : null,
      result);
    const history = (d.history || []).length === 0 ? message('No attempt yet.') : el('table', {id: 'history'},
      el('thead', {}, el('tr', {}, ['When', 'Outcome', 'Class', 'HTTP', 'Code', 'Bitrix24 said']
        .map(h => el('th', {scope: 'col', text: h})))),
      el('tbody', {}, d.history.map(a => el('tr', {},
        el('td', {'data-label': 'When', text: time(a.at)}),
        el('td', {'data-label': 'Outcome', text: a.outcome || ''}),
        el('td', {'data-label': 'Class', text: a.errorClass || ''}),
        el('td', {'data-label': 'HTTP', text: a.httpStatus === null || a.httpStatus === undefined ? ''
            : String(a.httpStatus)}),
        el('td', {'data-label': 'Code', text: a.code || ''}),
        el('td', {'data-label': 'Bitrix24 said', class: 'error-text', text: a.description || ''})))));
    show(el('p', {}, el('a', {href: '#/deliveries', text: '« Deliveries'})),
      el('h1', {text: 'Delivery ' + d.id}),
      summary, actions,
      el('h2', {text: 'Webhook as received'}),
      d.payload ? keyValues('payload', d.payload) : el('pre', {id: 'payload', text: d.unreadablePayload || ''}),
      el('details', {}, el('summary', {text: 'Raw JSON'}),
        el('pre', {class: 'raw', text: JSON.stringify(d.payload, null, 2)})),
      el('h2', {text: 'Lead fields it maps to now'}),
      d.mappedFields ? keyValues('mapped', d.mappedFields)
        : message('Its integration is not configured any more, or the payload cannot be read.'),
      el('h2', {text: 'Attempts'}), history);
  }

  async function replay(id, result) {
    const button = document.getElementById('replay');
    button.disabled = true;
    result.textContent = 'Replaying…';
    try {
      await api('POST', '/admin/deliveries/' + encodeURIComponent(id) + '/retry');
    } catch (e) {
      result.textContent = e.message;
      button.disabled = false;
      return;
    }
    result.textContent = 'Replayed: it is PENDING and goes to Bitrix24 now. Waiting for the outcome…';
    watchDelivery(id, result, 60);
  }

  /** After a replay: looks again every second until the delivery is no longer PENDING, then shows the outcome. */
  function watchDelivery(id, result, triesLeft) {
    later(async () => {
      let d;
      try {
        d = await api('GET', '/admin/deliveries/' + encodeURIComponent(id));
      } catch (e) {
        result.textContent = e.message;
        return;
      }
      if (d.state === 'PENDING' && triesLeft > 0) {
        watchDelivery(id, result, triesLeft - 1);
        return;
      }
      await deliveryView(id);
      const shown = document.getElementById('replay-result');
      shown.textContent = d.state === 'DELIVERED' ? 'Delivered: lead ' + d.leadId + ' exists in Bitrix24.'
        : d.state === 'PENDING' ? 'Still waiting: Bitrix24 has not taken it yet.'
          : 'Failed again: ' + (d.lastError || d.state);
    }, 1000);
  }

  // ---- jobs ----

  async function jobView(id) {
    const job = await api('GET', '/admin/jobs/' + encodeURIComponent(id));
    const total = Math.max(job.total, 1);
    show(el('h1', {text: 'Bulk replay'}),
      el('p', {text: job.what}),
      el('progress', {id: 'job-progress', max: String(total), value: String(job.done)}),
      el('p', {id: 'job-status', role: 'status', text: job.done + ' of ' + job.total + ' done, ' + job.replayed
          + ' replayed — ' + job.state + (job.message ? ': ' + job.message : '')}),
      el('p', {}, el('a', {href: '#/deliveries', text: '« Deliveries'})));
    if (job.state === 'running') {
      later(() => jobView(id).catch(e => show(message(e.message, 'error'))), 500);
    }
  }

  // ---- portals ----

  async function portalsView() {
    const answer = await api('GET', '/admin/portals');
    const cards = answer.portals.map(p => {
      const result = el('p', {class: 'resume-result', role: 'status'});
      const budget = p.budget || {};
      return el('article', {class: 'portal portal-' + String(p.state || '').toLowerCase()},
        el('h2', {}, el('span', {text: p.address || p.portal}), ' ', stateBadge(p.state === 'active' ? 'sending'
          : p.state)),
        el('dl', {class: 'summary'},
          el('dt', {text: 'Integrations'}), el('dd', {text: (p.integrations || []).join(', ')}),
          p.reason ? [el('dt', {text: 'Why'}), el('dd', {class: 'error-text', text: p.reason})] : null,
          p.pausedSince ? [el('dt', {text: 'Paused since'}), el('dd', {text: time(p.pausedSince)})] : null,
          p.nextProbeAt ? [el('dt', {text: 'Next probe'}), el('dd', {text: time(p.nextProbeAt)})] : null,
          el('dt', {text: 'Sent by'}), el('dd', {text: p.owner || 'no node right now'}),
          el('dt', {text: 'Backlog'}), el('dd', {text: String(p.backlog) + ' waiting, ' + p.dead + ' dead'}),
          el('dt', {text: 'Oldest waiting'}), el('dd', {text: age(p.oldestPendingAgeSeconds)}),
          el('dt', {text: 'Request budget'}), el('dd', {text: budget.bucketSize === undefined ? '—'
              : budget.bucketLevel + ' of ' + budget.bucketSize + ' requests in the bucket, '
              + budget.requestsPerSecond + ' per second'}),
          el('dt', {text: 'Operating time'}), el('dd', {text: budget.operatingSecondsLimit === undefined ? '—'
              : budget.operatingSecondsUsed + ' s of ' + budget.operatingSecondsLimit + ' s per 10 minutes'})),
        p.state === 'paused' ? el('button', {type: 'button', class: 'resume', onclick: async () => {
          try {
            const done = await api('POST', '/admin/portals/' + encodeURIComponent(p.integrations[0]) + '/resume');
            result.textContent = done.message;
          } catch (e) {
            result.textContent = e.message;
          }
          later(() => portalsView().then(() => {
            const first = document.querySelector('.resume-result');
            if (first && !first.textContent) {
              first.textContent = result.textContent;
            }
          }), 1500);
        }, text: 'Resume now'}) : null,
        result);
    });
    show(el('h1', {text: 'Portals'}),
      cards.length ? el('div', {class: 'portals'}, cards) : message('No portal is configured.'),
      answer.dryRun.length ? message('Dry-run integrations (no portal): ' + answer.dryRun.join(', ')) : null);
  }

  // ---- preview ----

  async function previewView() {
    const answer = await api('GET', '/admin/portals');
    const names = [...new Set(answer.portals.flatMap(p => p.integrations || []).concat(answer.dryRun))].sort();
    const picked = sessionStorage.getItem(PREVIEW_KEY);
    const result = el('div', {id: 'preview-result'});
    const form = el('form', {id: 'preview-form', class: 'preview', onsubmit: async event => {
      event.preventDefault();
      clear(result);
      const integration = document.getElementById('preview-integration').value;
      const type = document.getElementById('preview-type').value;
      const body = document.getElementById('preview-body').value;
      sessionStorage.setItem(PREVIEW_KEY, body);
      try {
        const preview = await api('POST', '/admin/preview/' + encodeURIComponent(integration), body, type);
        result.appendChild(el('h2', {text: 'The lead it would create'}));
        result.appendChild(keyValues('preview-fields', preview.lead.fields));
        result.appendChild(el('details', {}, el('summary', {text: 'crm.lead.add body'}),
          el('pre', {class: 'raw', text: JSON.stringify(preview.lead, null, 2)})));
      } catch (e) {
        result.appendChild(el('p', {id: 'preview-error', class: 'error', role: 'alert', text: e.message}));
      }
    }},
      el('label', {for: 'preview-integration'}, 'Integration', el('select', {id: 'preview-integration'},
        names.map(n => el('option', {value: n, text: n})))),
      el('label', {for: 'preview-type'}, 'Body type', el('select', {id: 'preview-type'},
        el('option', {value: 'application/json', text: 'JSON'}),
        el('option', {value: 'application/x-www-form-urlencoded', text: 'Form (a=1&b=2)'}))),
      el('label', {for: 'preview-body', class: 'wide'}, 'Webhook body', el('textarea', {id: 'preview-body',
        rows: '12', spellcheck: 'false', text: picked || '{\n  "name": "Иван",\n  "phone": "+79991234567"\n}'})),
      el('button', {type: 'submit', id: 'preview-run', text: 'Preview'}));
    show(el('h1', {text: 'Preview a webhook'}),
      message('Nothing is stored or sent: this shows the lead the current mapping makes of the body.'),
      form, result);
  }

  route();
})();
