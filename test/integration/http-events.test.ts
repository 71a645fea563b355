// The panel's per-state actions and its device and extension events, over real HTTP, AMI and the CLI: a user's
// presence changing to a type switches the Custom:DND<ext> and Custom:FOLLOWME<ext> devices their settings name
// (AMI DeviceStateChange, busy-lamp hints and event streams see it), and every event stream gets the device,
// extension state and directory changes its caller may see, with Last-Event-ID replay.
import { readFile, writeFile } from 'node:fs/promises';
import { expect } from 'chai';
import { ApiClient, EventStreamReader, expectError, type ServerSentEvent } from '../helpers/http-client.js';
import { RawAmi } from '../helpers/raw-ami.js';
import { useServer } from '../helpers/suite.js';

const ALICE: [string, string] = ['6001', '6001-demo-secret'];
const BOB: [string, string] = ['6002', '6002-demo-secret'];
const ADMIN: [string, string] = ['supervisor', 'super-secret'];

const NOTHING = { dnd: null, followMe: null };
const DEFAULT_ACTIONS = { available: { dnd: false, followMe: null }, chat: NOTHING, away: NOTHING, dnd: { dnd: true, followMe: null }, xa: NOTHING, unavailable: NOTHING };

const data = (event: ServerSentEvent): Record<string, unknown> => JSON.parse(event.data) as Record<string, unknown>;

describe('integration: HTTP panel actions and device events', function () {
  const server = useServer({
    config: 'fixtures/http/extensions.conf',
    amiConfig: 'fixtures/http/manager.conf',
    args: ['--http', '127.0.0.1:0', '--pjsip', 'fixtures/pjsip.conf'],
  });
  const api = (): ApiClient => new ApiClient(server().httpPort);
  const opened: Array<{ close(): unknown }> = [];
  const stream = async (options: Parameters<typeof EventStreamReader.open>[1]): Promise<EventStreamReader> => {
    const reader = await EventStreamReader.open(server().httpPort, options);
    opened.push(reader);
    return reader;
  };
  const ami = async (): Promise<RawAmi> => {
    const connection = await RawAmi.login(server().amiPort, ...ADMIN);
    opened.push(connection);
    return connection;
  };
  const deviceChange = (connection: RawAmi, device: string) =>
    connection.nextWhere((block) => block.get('Event') === 'DeviceStateChange' && block.get('Device') === device);
  afterEach(async function () {
    for (const connection of opened.splice(0)) await connection.close();
  });

  describe('per-state actions', function () {
    it("keeps each user's actions per state type, FreePBX's by default, and refuses bad ones naming the field", async function () {
      expect((await api().request('/api/v1/me/settings', { basic: BOB })).json).to.deep.equal({ onLogin: null, onLogout: null, actions: DEFAULT_ACTIONS });
      const saved = await api().request('/api/v1/me/settings', { method: 'PUT', basic: BOB, body: { onLogin: null, onLogout: null, actions: { away: { followMe: true } } } });
      expect(saved.json).to.deep.equal({ onLogin: null, onLogout: null, actions: { ...DEFAULT_ACTIONS, available: NOTHING, dnd: NOTHING, away: { dnd: null, followMe: true } } });
      // Without `actions` a change keeps them.
      const kept = await api().request('/api/v1/me/settings', { method: 'PUT', basic: BOB, body: { onLogin: null, onLogout: null } });
      expect(kept.json).to.deep.equal(saved.json);
      const refuse = async (actions: unknown, field: string): Promise<void> => {
        const message = expectError(await api().request('/api/v1/me/settings', { method: 'PUT', basic: BOB, body: { onLogin: null, onLogout: null, actions } }), 400, 'INVALID_VALUE');
        expect(message).to.contain(field);
      };
      await refuse({ away: { dnd: 'on' } }, 'body/actions/away/dnd');
      await refuse({ asleep: { dnd: true } }, 'body/actions/asleep');
      await refuse({ away: { voicemail: true } }, 'body/actions/away/voicemail');
      expect((await api().request('/api/v1/me/settings', { basic: BOB })).json).to.deep.equal(saved.json);
      await api().request('/api/v1/me/settings', { method: 'PUT', basic: BOB, body: { onLogin: null, onLogout: null, actions: DEFAULT_ACTIONS } });
    });

    it('switches Custom:DND and Custom:FOLLOWME as the new type says, whoever changed the presence; AMI and busy lamps see it', async function () {
      const actions = { away: { dnd: true, followMe: true }, available: { dnd: false, followMe: false } };
      await api().request('/api/v1/me/settings', { method: 'PUT', basic: ALICE, body: { onLogin: null, onLogout: null, actions } });
      const manager = await ami();
      const mine = await stream({ basic: ALICE });

      expect((await api().request('/api/v1/presence/6001', { method: 'PUT', basic: ALICE, body: { state: 'away', message: 'Lunch' } })).status).to.equal(200);
      expect((await deviceChange(manager, 'Custom:DND6001')).get('State')).to.equal('INUSE');
      expect((await deviceChange(manager, 'Custom:FOLLOWME6001')).get('State')).to.equal('INUSE');
      expect(data(await mine.next('device'))).to.deep.equal({ device: 'Custom:DND6001', state: 'INUSE' });
      expect(data(await mine.next('extension'))).to.deep.equal({ extension: '*766001', context: 'default', extensionState: 'InUse' });
      expect(data(await mine.next('device'))).to.deep.equal({ device: 'Custom:FOLLOWME6001', state: 'INUSE' });
      expect(data(await mine.next('extension'))).to.deep.equal({ extension: '*216001', context: 'default', extensionState: 'InUse' });

      // From the CLI too: Available turns both off.
      expect((await server().cli(['change', 'CustomPresence:6001', 'available'])).code).to.equal(0);
      expect((await deviceChange(manager, 'Custom:DND6001')).get('State')).to.equal('NOT_INUSE');
      expect((await deviceChange(manager, 'Custom:FOLLOWME6001')).get('State')).to.equal('NOT_INUSE');
      expect((await server().devicestate(['list'])).stdout).to.contain("--- Name: 'Custom:DND6001'  State: 'NOT_INUSE'\n");

      // Chat has no actions: the next device event Alice sees is the lamp changed after it.
      await api().request('/api/v1/presence/6001', { method: 'PUT', basic: ALICE, body: { state: 'chat' } });
      expect((await server().devicestate(['change', 'Custom:lobby', 'INUSE'])).code).to.equal(0);
      expect(data(await mine.next('device'))).to.deep.equal({ device: 'Custom:DND6001', state: 'NOT_INUSE' });
      expect(data(await mine.next('device'))).to.deep.equal({ device: 'Custom:FOLLOWME6001', state: 'NOT_INUSE' });
      expect(data(await mine.next('device'))).to.deep.equal({ device: 'Custom:lobby', state: 'INUSE' });
    });

    it("applies each user's own actions (FreePBX's default: DND on for DND), shown to them and to busy lamps only", async function () {
      const alice = await stream({ basic: ALICE });
      const bob = await stream({ basic: BOB });
      const manager = await ami();
      await api().request('/api/v1/presence/6002', { method: 'PUT', basic: BOB, body: { state: 'dnd', message: 'In a meeting' } });
      expect((await deviceChange(manager, 'Custom:DND6002')).get('State')).to.equal('INUSE');
      expect(data(await bob.next('device'))).to.deep.equal({ device: 'Custom:DND6002', state: 'INUSE' });
      // Alice sees Bob's presence, but no lamp of hers holds his DND device.
      expect(data(await alice.next('presence'))).to.deep.include({ name: '6002', state: 'dnd' });
      await server().devicestate(['change', 'Custom:lobby', 'BUSY']);
      expect(data(await alice.next('device'))).to.deep.equal({ device: 'Custom:lobby', state: 'BUSY' });
      // Names that are no user's (not an endpoint of --pjsip) have no actions.
      await server().cli(['change', 'CustomPresence:2000', 'dnd']);
      await server().devicestate(['change', 'Custom:lobby', 'NOT_INUSE']);
      expect(data(await alice.next('device'))).to.deep.equal({ device: 'Custom:lobby', state: 'NOT_INUSE' });
      expect((await server().devicestate(['list'])).stdout).not.to.contain('DND2000');
    });
  });

  describe('device, extension and directory events', function () {
    it('sends device and extension state changes to the streams whose caller may see them, and replays them after Last-Event-ID', async function () {
      const admin = await stream({ basic: ADMIN });
      const alice = await stream({ basic: ALICE });
      await server().devicestate(['change', 'Custom:room-8000', 'INUSE']);
      expect(data(await admin.next('device'))).to.deep.equal({ device: 'Custom:room-8000', state: 'INUSE' });
      expect(data(await admin.next('extension'))).to.deep.equal({ extension: '8000', context: 'private', extensionState: 'InUse' });
      await server().devicestate(['change', 'Custom:lobby', 'RINGING']);
      // Alice's context does not reach 8000: her first device and extension events are the lobby's.
      expect(data(await alice.next('device'))).to.deep.equal({ device: 'Custom:lobby', state: 'RINGING' });
      expect(data(await alice.next('extension'))).to.deep.equal({ extension: '2000', context: 'default', extensionState: 'Ringing' });
      // The same state again is a device event (as in Asterisk) but no extension state change.
      await server().devicestate(['change', 'Custom:lobby', 'RINGING']);
      await server().devicestate(['change', 'Custom:lobby', 'BUSY']);
      expect(data(await alice.next('device'))).to.deep.equal({ device: 'Custom:lobby', state: 'RINGING' });
      const busy = await alice.next('extension');
      expect(data(busy)).to.deep.equal({ extension: '2000', context: 'default', extensionState: 'Busy' });

      await alice.close();
      await server().devicestate(['change', 'Custom:room-8000', 'NOT_INUSE']);
      await server().devicestate(['change', 'Custom:lobby', 'NOT_INUSE']);
      const again = await stream({ basic: ALICE, lastEventId: busy.id });
      expect(data(await again.next('device'))).to.deep.equal({ device: 'Custom:lobby', state: 'NOT_INUSE' });
      expect(data(await again.next('extension'))).to.deep.equal({ extension: '2000', context: 'default', extensionState: 'Idle' });
      expect(again.pending().map((event) => event.data).join()).not.to.contain('room-8000');
    });

    it('tells every stream when a reload changes the directory, and follows the new hints', async function () {
      const alice = await stream({ basic: ALICE });
      const dialplan = await readFile(server().configFile, 'utf8');
      await writeFile(server().configFile, dialplan.replace('[private]', 'exten => 2001,hint,Custom:lobby-2,CustomPresence:2001\n\n[private]'));
      server().signal('SIGHUP');
      await alice.next('directory');
      const directory = (await api().request<Array<{ extension: string }>>('/api/v1/extensions', { basic: ALICE })).json;
      expect(directory.map((row) => row.extension)).to.include('2001');
      await server().devicestate(['change', 'Custom:lobby-2', 'INUSE']);
      expect(data(await alice.next('extension'))).to.deep.equal({ extension: '2001', context: 'default', extensionState: 'InUse' });
    });
  });
});
