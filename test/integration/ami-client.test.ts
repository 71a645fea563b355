// The AMI driven by asterisk-manager, an AMI client library from npm written for Asterisk: it must log in, read and
// set presence, list states and hints, and receive events from presenced exactly as from Asterisk.
import { createRequire } from 'node:module';
import { expect } from 'chai';
import { startServer } from '../helpers/server.js';
import type { PresenceServer } from '../helpers/server.js';
import { openClient } from '../helpers/sip-client.js';
import type { SipClient } from '../helpers/sip-client.js';
import { parsePidf } from '../helpers/wire.js';

/** A response or event as asterisk-manager hands it over: lower-cased keys, repeated keys as arrays. */
type AmiObject = Record<string, string | string[] | undefined>;

/** The part of asterisk-manager's (untyped, CommonJS) API these tests use. */
interface ManagerClient {
  connect(port: number, host: string, callback: () => void): void;
  login(callback: (error?: AmiObject) => void): void;
  action(action: Record<string, string>, callback: (error: AmiObject | undefined, response: AmiObject) => void): string;
  on(event: string, listener: (event: AmiObject) => void): void;
  disconnect(): void;
}

type ManagerConstructor = new (port: number | undefined, host: string, username: string, password: string, events: boolean) => ManagerClient;

const Manager = createRequire(import.meta.url)('asterisk-manager') as ManagerConstructor;

const WAIT_MS = 5000;

/** A logged-in asterisk-manager connection that records every event it receives. */
class AmiClient {
  readonly events: AmiObject[] = [];

  private constructor(readonly manager: ManagerClient) {
    manager.on('managerevent', (event) => this.events.push(event));
  }

  static async login(port: number, username: string, secret: string): Promise<AmiClient> {
    // Without a port the constructor does not connect, so the login's outcome can be observed.
    const manager = new Manager(undefined, '127.0.0.1', username, secret, true);
    await new Promise<void>((resolve) => manager.connect(port, '127.0.0.1', resolve));
    await new Promise<void>((resolve, reject) => manager.login((error) => (error ? reject(new LoginError(error)) : resolve())));
    return new AmiClient(manager);
  }

  /** Runs an action and resolves with its response, an error response included. */
  action(fields: Record<string, string>): Promise<AmiObject> {
    return new Promise((resolve) => this.manager.action(fields, (_error, response) => resolve(response)));
  }

  /** The first recorded or future event matching `predicate`, removed from the record. */
  async event(predicate: (event: AmiObject) => boolean, what: string, timeoutMs = WAIT_MS): Promise<AmiObject> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.events.findIndex(predicate);
      if (index >= 0) return this.events.splice(index, 1)[0];
      if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms; events:\n${JSON.stringify(this.events, null, 1)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Fails if an event matching `predicate` is recorded or arrives within `withinMs`. */
  async noEvent(predicate: (event: AmiObject) => boolean, what: string, withinMs = 700): Promise<void> {
    const unexpected = await this.event(predicate, what, withinMs).catch(() => undefined);
    if (unexpected) throw new Error(`unexpected ${what}: ${JSON.stringify(unexpected)}`);
  }

  /** Forgets the events recorded so far. */
  clear(): void {
    this.events.length = 0;
  }

  close(): void {
    this.manager.disconnect();
  }
}

class LoginError extends Error {
  constructor(readonly response: AmiObject) {
    super(`login refused: ${JSON.stringify(response)}`);
  }
}

const isChange = (presentity: string, status?: string) => (event: AmiObject): boolean =>
  event.event === 'PresenceStateChange' && event.presentity === presentity && event.actionid === undefined &&
  (status === undefined || event.status === status);

const isStatus = (exten: string, status: string) => (event: AmiObject): boolean =>
  event.event === 'PresenceStatus' && event.exten === exten && event.status === status;

describe('integration: AMI with the asterisk-manager client', function () {
  let server: PresenceServer;
  let admin: AmiClient;
  let sip: SipClient;

  before(async function () {
    server = await startServer({ amiConfig: 'fixtures/ami/manager.conf' });
    admin = await AmiClient.login(server.amiPort, 'admin', 's3cret!');
    sip = await openClient('UDP', server);
  });

  after(async function () {
    admin?.close();
    await sip?.close();
    await server?.stop();
  });

  it('refuses a wrong secret', async function () {
    const refused = await AmiClient.login(server.amiPort, 'admin', 'wrong').then(() => undefined, (error: LoginError) => error.response);
    expect(refused).to.deep.include({ response: 'Error', message: 'Authentication failed' });
  });

  it('reads a state with PresenceState, with the fields and duplicate Message header of Asterisk', async function () {
    const change = await server.cli(['change', 'CustomPresence:6002', 'away,at home,Sick with the flu']);
    expect(change.code, change.stderr).to.equal(0);
    const response = await admin.action({ action: 'PresenceState', provider: 'CustomPresence:6002' });
    expect(response).to.deep.include({
      response: 'Success',
      state: 'away',
      subtype: 'at home',
      message: ['Presence State', 'Sick with the flu'],
      presencemessage: 'Sick with the flu',
    });
    const unset = await admin.action({ action: 'PresenceState', provider: 'CustomPresence:never-set' });
    expect(unset).to.deep.include({ response: 'Success', state: 'not_set', message: 'Presence State' });
    expect(unset).not.to.have.property('subtype');
  });

  it('sets a state with Setvar PRESENCE_STATE(), and the subscribed SIP watcher gets its NOTIFY', async function () {
    const dialog = await sip.subscribeDialog({ user: '6002', userAgent: 'Digium D65' });
    await dialog.nextNotify();
    const response = await admin.action({ action: 'Setvar', variable: 'PRESENCE_STATE(CustomPresence:6002)', value: 'dnd,meeting,Quarterly review' });
    expect(response).to.deep.include({ response: 'Success', message: 'Variable Set' });
    const document = parsePidf((await dialog.nextNotify()).body);
    expect(document.tuples.find((tuple) => tuple.id === 'digium-presence')?.digium).to.deep.equal({
      type: 'dnd', subtype: 'meeting', text: 'Quarterly review',
    });
  });

  it('sets base64 values with the e option and reads every field back with Getvar', async function () {
    const encoded = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
    const set = await admin.action({ action: 'Setvar', variable: 'PRESENCE_STATE(CustomPresence:lamp3)', value: `xa,${encoded('On vacation')},${encoded('Back in März')},e` });
    expect(set.response).to.equal('Success');
    const read = async (argument: string): Promise<string | string[] | undefined> =>
      (await admin.action({ action: 'Getvar', variable: `PRESENCE_STATE(CustomPresence:lamp3${argument})` })).value;
    expect(await read(',value')).to.equal('xa');
    expect(await read('')).to.equal('xa');
    expect(await read(',subtype')).to.equal('On vacation');
    expect(await read(',message')).to.equal('Back in März');
    expect(await read(',message,e')).to.equal(encoded('Back in März'));
  });

  it('refuses an invalid state with Setvar: an error, nothing stored, no event', async function () {
    const before = await admin.action({ action: 'Getvar', variable: 'PRESENCE_STATE(CustomPresence:2000)' });
    const response = await admin.action({ action: 'Setvar', variable: 'PRESENCE_STATE(CustomPresence:2000)', value: 'sleeping,,zzz' });
    expect(response.response).to.equal('Error');
    expect(response.message).to.match(/^Variable not set: Unknown presence state 'sleeping'/);
    const after = await admin.action({ action: 'Getvar', variable: 'PRESENCE_STATE(CustomPresence:2000)' });
    expect(after.value).to.equal(before.value);
    await admin.noEvent(isChange('CustomPresence:2000'), 'PresenceStateChange for 2000');
  });

  it('lists the stored states with PresenceStateList, closed by PresenceStateListComplete', async function () {
    const change = await server.cli(['change', 'CustomPresence:9000', 'chat,,Ask me']);
    expect(change.code, change.stderr).to.equal(0);
    const stored = (await server.cli(['list'])).stdout.match(/--- Name: /g)?.length ?? 0;
    const response = await admin.action({ action: 'PresenceStateList', actionid: 'list-1' });
    expect(response).to.deep.include({ response: 'Success', eventlist: 'start', message: 'Presence State Changes will follow' });
    const complete = await admin.event((event) => event.event === 'PresenceStateListComplete' && event.actionid === 'list-1', 'PresenceStateListComplete');
    expect(complete).to.deep.include({ eventlist: 'Complete', listitems: String(stored) });
    const items = admin.events.filter((event) => event.event === 'PresenceStateChange' && event.actionid === 'list-1');
    expect(items).to.have.length(stored);
    expect(items.find((item) => item.presentity === 'CustomPresence:9000')).to.deep.include({ status: 'chat', subtype: '', message: 'Ask me' });
  });

  it('reports hints with ExtensionState and ExtensionStateList', async function () {
    const state = await admin.action({ action: 'ExtensionState', exten: '7000', context: 'default' });
    expect(state).to.deep.include({
      response: 'Success', message: 'Extension Status', exten: '7000', context: 'default',
      hint: 'PJSIP/7000,CustomPresence:7000', status: '0', statustext: 'Idle',
    });
    const response = await admin.action({ action: 'ExtensionStateList', actionid: 'hints-1' });
    expect(response).to.deep.include({ response: 'Success', eventlist: 'start', message: 'Extension Statuses will follow' });
    const complete = await admin.event((event) => event.event === 'ExtensionStateListComplete' && event.actionid === 'hints-1', 'ExtensionStateListComplete');
    expect(complete).to.deep.include({ eventlist: 'Complete', listitems: '6' });
    const items = admin.events.filter((event) => event.event === 'ExtensionStatus' && event.actionid === 'hints-1');
    expect(items.map((item) => `${item.exten}@${item.context}`)).to.have.members(['6002@default', '6003@default', '2000@default', '7000@shared', '8000@other', '9000@internal']);
    expect(items.find((item) => item.exten === '2000')).to.deep.include({ hint: ',CustomPresence:2000', status: '0', statustext: 'Idle' });
  });

  it('sends each change once to every client that reads call events, and nothing to one that does not', async function () {
    const panel = await AmiClient.login(server.amiPort, 'panel', 'panelpass');
    const deaf = await AmiClient.login(server.amiPort, 'deaf', 'deafpass');
    admin.clear();
    try {
      const change = await server.cli(['change', 'CustomPresence:6002', 'xa,lunch,Back at two']);
      expect(change.code, change.stderr).to.equal(0);
      for (const client of [admin, panel]) {
        const event = await client.event(isChange('CustomPresence:6002', 'xa'), 'PresenceStateChange');
        expect(event).to.deep.include({ privilege: 'call,all', subtype: 'lunch', message: 'Back at two' });
        // Both hints whose presence part is CustomPresence:6002.
        for (const exten of ['6002', '6003']) {
          const status = await client.event(isStatus(exten, 'xa'), `PresenceStatus for ${exten}`);
          expect(status).to.deep.include({ context: 'default', hint: `PJSIP/${exten},CustomPresence:6002`, subtype: 'lunch', message: 'Back at two' });
        }
      }
      for (const client of [admin, panel]) {
        await client.noEvent((event) => isChange('CustomPresence:6002')(event) || isStatus('6002', 'xa')(event), 'second copy of the change');
      }
      await deaf.noEvent((event) => event.event === 'PresenceStateChange' || event.event === 'PresenceStatus', 'event for a user without read=call', 300);
    } finally {
      panel.close();
      deaf.close();
    }
  });

  it('raises the events for a change made over AMI too', async function () {
    const panel = await AmiClient.login(server.amiPort, 'panel', 'panelpass');
    try {
      await admin.action({ action: 'Setvar', variable: 'PRESENCE_STATE(CustomPresence:7000)', value: 'unavailable' });
      await panel.event(isChange('CustomPresence:7000', 'unavailable'), 'PresenceStateChange from AMI');
      await panel.event((event) => event.event === 'PresenceStatus' && event.exten === '7000' && event.context === 'shared', 'PresenceStatus for 7000@shared');
    } finally {
      panel.close();
    }
  });

  it('stops and resumes events with the Events action', async function () {
    admin.clear();
    const off = await admin.action({ action: 'Events', eventmask: 'off' });
    expect(off).to.deep.include({ response: 'Success', events: 'Off' });
    await server.cli(['change', 'CustomPresence:8000', 'away']);
    await admin.noEvent(isChange('CustomPresence:8000'), 'event while events are off');
    const on = await admin.action({ action: 'Events', eventmask: 'call' });
    expect(on).to.deep.include({ response: 'Success', events: 'On' });
    await server.cli(['change', 'CustomPresence:8000', 'available']);
    await admin.event(isChange('CustomPresence:8000', 'available'), 'event once events are on again');
  });

  it('does not let a user without write=call change states', async function () {
    const panel = await AmiClient.login(server.amiPort, 'panel', 'panelpass');
    try {
      const refused = await panel.action({ action: 'Setvar', variable: 'PRESENCE_STATE(CustomPresence:6002)', value: 'away' });
      expect(refused).to.deep.include({ response: 'Error', message: 'Permission denied' });
      expect((await panel.action({ action: 'PresenceState', provider: 'CustomPresence:6002' })).response).to.equal('Success');
    } finally {
      panel.close();
    }
  });

  it('answers an unknown action with Asterisk\'s error', async function () {
    const response = await admin.action({ action: 'QueueStatus' });
    expect(response).to.deep.include({
      response: 'Error',
      message: 'Invalid/unknown command: QueueStatus. Use Action: ListCommands to show available commands.',
    });
  });
});
