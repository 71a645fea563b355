// The PIDF documents in NOTIFY bodies (RFC 3863, RFC 3856 §6.8) and the Digium presence extension tuple.
import { expect } from 'chai';
import { startServer } from '../helpers/server.js';
import type { PresenceServer } from '../helpers/server.js';
import { openClient } from '../helpers/sip-client.js';
import type { SipClient, WatcherDialog } from '../helpers/sip-client.js';
import { parsePidf } from '../helpers/wire.js';
import type { PidfDocument, PidfTuple } from '../helpers/wire.js';

const DIGIUM_UA = 'Digium D65 2_4_2';

function tuple(document: PidfDocument, id: string): PidfTuple {
  const found = document.tuples.find((candidate) => candidate.id === id);
  if (!found) throw new Error(`no tuple ${id} in ${JSON.stringify(document)}`);
  return found;
}

/** Notes of the extension's tuple and of the document, wherever the server put them. */
function notes(document: PidfDocument, id: string): string[] {
  return [...tuple(document, id).notes, ...document.notes];
}

describe('integration: PIDF bodies', function () {
  let server: PresenceServer;
  let client: SipClient;

  async function watch(user: string, userAgent = 'presenced-itest', watcher = client): Promise<{ dialog: WatcherDialog; first: PidfDocument }> {
    const { response, dialog } = await watcher.subscribe({ user, userAgent });
    expect(response.status).to.equal(200);
    if (!dialog) throw new Error('the 200 has no To tag');
    return { dialog, first: parsePidf((await dialog.nextNotify()).body) };
  }

  async function change(provider: string, value: string): Promise<void> {
    const result = await server.cli(['change', `CustomPresence:${provider}`, value]);
    expect(result.code, result.stderr).to.equal(0);
  }

  async function changeAndRead(dialog: WatcherDialog, provider: string, value: string): Promise<PidfDocument> {
    await change(provider, value);
    return parsePidf((await dialog.nextNotify()).body);
  }

  before(async function () {
    server = await startServer();
    client = await openClient('UDP', server);
  });

  after(async function () {
    await client?.close();
    await server?.stop();
  });

  it('describes the extension, not the watcher, over UDP and TCP', async function () {
    const tcpClient = await openClient('TCP', server);
    try {
      for (const watcher of [client, tcpClient]) {
        const { first } = await watch('6002', 'presenced-itest', watcher);
        expect(first.namespace).to.equal('urn:ietf:params:xml:ns:pidf');
        expect(first.entity).to.equal('sip:6002@127.0.0.1');
        const extension = tuple(first, '6002');
        expect(extension.basic).to.equal('open');
        expect(extension.contact).to.equal('sip:6002@127.0.0.1');
        expect(extension.contactPriority).to.equal('1');
        expect(notes(first, '6002')).to.include('Ready');
      }
    } finally {
      await tcpClient.close();
    }
  });

  it('has no Digium tuple while the state is not set, even for a Digium phone', async function () {
    const { first } = await watch('7000', DIGIUM_UA);
    expect(first.tuples.map((candidate) => candidate.id)).not.to.include('digium-presence');
  });

  it('adds the Digium tuple for Digium and Sangoma phones, and the message becomes the note', async function () {
    const digium = await watch('6003', DIGIUM_UA);
    const sangoma = await watch('6003', 'SANGOMA s505 3.0.4');
    await change('6002', 'away,at home,Sick with the flu');
    for (const { dialog } of [digium, sangoma]) {
      const document = parsePidf((await dialog.nextNotify()).body);
      expect(document.entity).to.equal('sip:6003@127.0.0.1');
      expect(tuple(document, 'digium-presence').digium).to.deep.equal({ type: 'away', subtype: 'at home', text: 'Sick with the flu' });
      expect(tuple(document, '6003').basic).to.equal('open');
      expect(notes(document, '6003')).to.include('Sick with the flu');
    }
  });

  it('has no Digium tuple for other user agents', async function () {
    await change('6002', 'away,at home,Sick with the flu');
    const { first } = await watch('6003', 'Yealink SIP-T46S 66.86.0.15');
    const ids = first.tuples.map((candidate) => candidate.id);
    expect(ids).to.include('6003');
    expect(ids).not.to.include('digium-presence');
  });

  it('leaves out the subtype attribute when the subtype is empty', async function () {
    const { dialog } = await watch('6002', DIGIUM_UA);
    const document = await changeAndRead(dialog, '6002', 'dnd,,In a meeting');
    expect(tuple(document, 'digium-presence').digium).to.deep.equal({ type: 'dnd', subtype: undefined, text: 'In a meeting' });
  });

  it('escapes XML special characters in subtype and message', async function () {
    const { dialog } = await watch('6002', DIGIUM_UA);
    const subtype = `"home" & <work>`;
    const message = `<b>&"x"</b>`;
    const document = await changeAndRead(dialog, '6002', `away,${subtype},${message}`);
    expect(tuple(document, 'digium-presence').digium).to.deep.equal({ type: 'away', subtype, text: message });
    expect(notes(document, '6002')).to.include(message);
  });

  it('decodes base64 subtype and message set with option e', async function () {
    const { dialog } = await watch('6002', DIGIUM_UA);
    const document = await changeAndRead(dialog, '6002', 'away,YXQgaG9tZQ==,U2ljaw==,e');
    expect(tuple(document, 'digium-presence').digium).to.deep.equal({ type: 'away', subtype: 'at home', text: 'Sick' });
  });

  describe('presence-only hint', function () {
    let dialog: WatcherDialog;
    let first: PidfDocument;

    before(async function () {
      ({ dialog, first } = await watch('2000', DIGIUM_UA));
    });

    it('is closed and "Offline" while not set', function () {
      expect(tuple(first, '2000').basic).to.equal('closed');
      expect(notes(first, '2000')).to.include('Offline');
    });

    const labels: Array<[string, string, string]> = [
      ['unavailable', 'closed', 'Unavailable'],
      ['available', 'open', 'Available'],
      ['chat', 'open', 'Available for chat'],
      ['away', 'open', 'Away'],
      ['xa', 'open', 'Extended away'],
      ['dnd', 'open', 'Do not disturb'],
    ];
    for (const [state, basic, label] of labels) {
      it(`is ${basic} and "${label}" when ${state}`, async function () {
        const document = await changeAndRead(dialog, '2000', state);
        expect(tuple(document, '2000').basic).to.equal(basic);
        expect(notes(document, '2000')).to.include(label);
        expect(tuple(document, 'digium-presence').digium?.type).to.equal(state);
      });
    }

    it('uses the message as the note when one is set', async function () {
      const document = await changeAndRead(dialog, '2000', 'away,,Gone fishing');
      expect(notes(document, '2000')).to.include('Gone fishing');
      expect(notes(document, '2000')).not.to.include('Away');
    });
  });
});
