// The presence panel: plain browser JavaScript, no build step. Reads and changes everything through /api/v1 and
// stays current through the event stream (/api/v1/events).
const LABELS = { available: 'Available', chat: 'Chat', away: 'Away', dnd: 'DND', xa: 'Extended Away', unavailable: 'Unavailable', not_set: 'Not set' };
const TYPES = ['available', 'chat', 'away', 'dnd', 'xa', 'unavailable'];
const MODES = { dnd: 'Do Not Disturb', followMe: 'Find Me/Follow Me' };
const SWITCHES = [['', 'Leave as is'], ['on', 'Turn on'], ['off', 'Turn off']];

const $ = (id) => document.getElementById(id);
const view = { me: undefined, states: [], directory: [], mine: undefined, events: undefined };

class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code;
  }
}

async function api(path, method = 'GET', body) {
  const init = { method, credentials: 'same-origin', headers: {} };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const json = response.status === 204 ? undefined : await response.json().catch(() => undefined);
  if (!response.ok) throw new ApiError(response.status, json);
  return json;
}

function notice(text) {
  $('notice').textContent = text;
}

/** Runs an action from a click or a form, showing its error instead of throwing it away. */
function act(action) {
  return (event) => {
    event?.preventDefault();
    notice('');
    action(event).catch((error) => notice(error.message));
  };
}

function element(tag, { dataset = {}, ...properties } = {}, ...children) {
  const node = Object.assign(document.createElement(tag), properties);
  Object.assign(node.dataset, dataset);
  node.append(...children);
  return node;
}

function badge(state) {
  return element('span', { className: `badge s-${state}`, textContent: LABELS[state] ?? state });
}

function entryLabel(entry) {
  return entry.message ? `${LABELS[entry.type]}: ${entry.message}` : LABELS[entry.type];
}

async function start() {
  try {
    view.me = await api('/api/v1/me');
  } catch (error) {
    if (error.status !== 401) throw error;
    view.me = undefined;
  }
  render();
  if (!view.me) return;
  await reload();
  listen();
}

function render() {
  const { me } = view;
  $('login').hidden = Boolean(me && me.role !== 'anonymous');
  $('login-hint').textContent = me?.role === 'anonymous'
    ? 'Read-only: this server has no users (start presenced with --pjsip to let them log in). Administrators may log in with their AMI user.'
    : 'Users log in with their SIP user name and password, administrators with their AMI user.';
  $('who').textContent = !me ? '' : me.role === 'user' ? `${me.displayName} (${me.name})` : me.role === 'admin' ? `${me.name} (administrator)` : 'Not logged in: read-only';
  $('logout').hidden = !me || me.role === 'anonymous';
  $('mine').hidden = $('settings').hidden = me?.role !== 'user';
  $('admin').hidden = me?.role !== 'admin';
  $('directory').hidden = !me;
}

async function reload() {
  const [states, directory] = await Promise.all([api('/api/v1/states'), api('/api/v1/extensions')]);
  view.states = states;
  view.directory = directory;
  if (view.me.role === 'user') {
    view.mine = await api(`/api/v1/presence/${encodeURIComponent(view.me.name)}`);
    renderSettings(await api('/api/v1/me/settings'));
  }
  renderStates();
  renderDirectory();
  renderMine();
}

function renderMine() {
  if (!view.mine) return;
  const { state, message } = view.mine;
  $('my-state').replaceWith(Object.assign(badge(state), { id: 'my-state' }));
  $('my-message').textContent = message;
  for (const button of $('choices').children) {
    const entry = view.states.find((candidate) => String(candidate.id) === button.dataset.id);
    button.setAttribute('aria-pressed', String(Boolean(entry && entry.type === state && entry.message === message)));
  }
}

function renderStates() {
  $('choices').replaceChildren(...view.states.map((entry) => element('button', {
    type: 'button',
    onclick: act(() => setMine({ state: entry.type, message: entry.message })),
    dataset: { id: String(entry.id) },
  }, badge(entry.type), entry.message ? ` ${entry.message}` : '')));
  for (const select of [$('settings-form').onLogin, $('settings-form').onLogout]) {
    const chosen = select.value;
    select.replaceChildren(element('option', { value: '', textContent: 'Do nothing' }),
      ...view.states.map((entry) => element('option', { value: String(entry.id), textContent: entryLabel(entry) })));
    select.value = chosen;
  }
  $('state-list').replaceChildren(...view.states.map((entry, index) => element('li', {},
    badge(entry.type), entry.message ? ` ${entry.message} ` : ' ',
    element('button', { type: 'button', textContent: '↑', ariaLabel: `Move ${entryLabel(entry)} up`, disabled: index === 0, onclick: act(() => move(index, -1)) }),
    element('button', { type: 'button', textContent: '↓', ariaLabel: `Move ${entryLabel(entry)} down`, disabled: index === view.states.length - 1, onclick: act(() => move(index, 1)) }),
    element('button', { type: 'button', textContent: 'Delete', ariaLabel: `Delete ${entryLabel(entry)}`, onclick: act(() => api(`/api/v1/states/${entry.id}`, 'DELETE')) }),
  )));
  renderMine();
}

function renderSettings(settings) {
  const form = $('settings-form');
  form.onLogin.value = settings.onLogin === null ? '' : String(settings.onLogin);
  form.onLogout.value = settings.onLogout === null ? '' : String(settings.onLogout);
  for (const type of TYPES) {
    for (const mode of Object.keys(MODES)) {
      const on = settings.actions[type][mode];
      form.elements[`${mode}-${type}`].value = on === null ? '' : on ? 'on' : 'off';
    }
  }
}

/** The per-type actions as the form shows them: on, off, or null (leave as is). */
function actionsOf(form) {
  const switched = (value) => (value === '' ? null : value === 'on');
  return Object.fromEntries(TYPES.map((type) => [type, Object.fromEntries(Object.keys(MODES).map((mode) => [mode, switched(form.elements[`${mode}-${type}`].value)]))]));
}

function renderDirectory() {
  $('directory-rows').replaceChildren(...view.directory.map((row) => element('tr', { dataset: { extension: row.extension } },
    element('td', { textContent: row.extension }),
    element('td', { textContent: row.name }),
    element('td', {}, badge(row.presence.state), element('span', { className: 'message', textContent: row.presence.message })),
    element('td', { textContent: row.extensionState }),
  )));
}

async function setMine(change) {
  view.mine = await api(`/api/v1/presence/${encodeURIComponent(view.me.name)}`, 'PUT', change);
  renderMine();
}

async function move(index, by) {
  const order = view.states.map((entry) => entry.id);
  [order[index], order[index + by]] = [order[index + by], order[index]];
  view.states = await api('/api/v1/states', 'PUT', { order });
  renderStates();
}

/** The event stream: EventSource reconnects by itself and sends Last-Event-ID, so nothing is missed. */
function listen() {
  view.events?.close();
  const events = new EventSource('/api/v1/events');
  view.events = events;
  events.addEventListener('presence', (event) => {
    const change = JSON.parse(event.data);
    for (const row of view.directory) if (row.presence.name === change.name) row.presence = { name: change.name, state: change.state, subtype: change.subtype, message: change.message };
    if (view.me?.role === 'user' && change.name === view.me.name) view.mine = change;
    renderDirectory();
    renderMine();
  });
  events.addEventListener('extension', (event) => {
    const change = JSON.parse(event.data);
    for (const row of view.directory) if (row.extension === change.extension && row.context === change.context) row.extensionState = change.extensionState;
    renderDirectory();
  });
  events.addEventListener('directory', () => reload().catch((error) => notice(error.message)));
  events.addEventListener('states', (event) => {
    view.states = JSON.parse(event.data).entries;
    renderStates();
  });
  events.addEventListener('resync', () => reload().catch((error) => notice(error.message)));
}

function setUp() {
  for (const type of TYPES) $('add-state').type.append(element('option', { value: type, textContent: LABELS[type] }));
  $('actions').append(...TYPES.map((type) => element('tr', {}, element('th', { scope: 'row' }, badge(type)),
    ...Object.entries(MODES).map(([mode, label]) => element('td', {}, element('select', { name: `${mode}-${type}`, ariaLabel: `${label} when ${LABELS[type]}` },
      ...SWITCHES.map(([value, text]) => element('option', { value, textContent: text }))))))));
  $('login-form').addEventListener('submit', act(async () => {
    const form = $('login-form');
    view.me = await api('/api/v1/login', 'POST', { username: form.username.value, password: form.password.value });
    form.password.value = '';
    render();
    await reload();
    listen();
  }));
  $('logout').addEventListener('click', act(async () => {
    await api('/api/v1/logout', 'POST', {});
    view.events?.close();
    view.mine = undefined;
    await start();
  }));
  $('message-form').addEventListener('submit', act(() => setMine({ state: view.mine?.state === 'not_set' ? 'available' : view.mine.state, message: $('message-form').message.value })));
  $('settings-form').addEventListener('submit', act(async () => {
    const form = $('settings-form');
    const id = (value) => (value === '' ? null : Number(value));
    renderSettings(await api('/api/v1/me/settings', 'PUT', { onLogin: id(form.onLogin.value), onLogout: id(form.onLogout.value), actions: actionsOf(form) }));
    notice('Settings saved.');
  }));
  $('add-state').addEventListener('submit', act(async () => {
    const form = $('add-state');
    await api('/api/v1/states', 'POST', { type: form.type.value, message: form.message.value });
    form.message.value = '';
  }));
  // Closing the tab: tell the server at once (it also notices the event stream closing). A reload reconnects
  // within the grace period and nothing is applied.
  addEventListener('pagehide', () => {
    if (view.me?.role === 'user') navigator.sendBeacon('/api/v1/me/leaving', new Blob(['{}'], { type: 'application/json' }));
  });
}

setUp();
start().catch((error) => notice(error.message));
