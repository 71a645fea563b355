// SIP.js (the library browser phones are built on) as a presence watcher in Node: UserAgent + Subscriber over
// WebSocket. Prints one JSON line per event on stdout; SIGTERM unsubscribes and stops.
// Usage: node sipjs-watcher.js ws://HOST:PORT/ws sip:EXTEN@HOST
import WebSocket from 'ws';
import { Subscriber, UserAgent, type Notification } from 'sip.js';

// Node 20 has no WebSocket global; SIP.js's transport uses whatever `WebSocket` is (the ws class is API-compatible).
(globalThis as unknown as { WebSocket: unknown }).WebSocket = WebSocket;

const [server, target] = process.argv.slice(2);
const print = (event: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(event)}\n`);

const userAgent = new UserAgent({
  uri: UserAgent.makeURI('sip:sipjs@example.invalid'),
  transportOptions: { server },
  logLevel: 'error',
  userAgentString: 'SIP.js interop watcher',
});
await userAgent.start();
const subscriber = new Subscriber(userAgent, UserAgent.makeURI(target!)!, 'presence', { expires: 600, extraHeaders: ['Accept: application/pidf+xml'] });
subscriber.delegate = {
  onNotify: (notification: Notification) => {
    notification.accept();
    print({ event: 'notify', state: notification.request.getHeader('Subscription-State'), body: notification.request.body });
  },
};
subscriber.stateChange.addListener((state) => print({ event: 'state', state }));
await subscriber.subscribe();

process.on('SIGTERM', () => {
  void subscriber
    .unsubscribe()
    .then(() => new Promise((resolve) => setTimeout(resolve, 300)))
    .then(() => userAgent.stop())
    .finally(() => process.exit(0));
});
