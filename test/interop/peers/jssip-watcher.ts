// JsSIP as a presence watcher in Node: ua.subscribe over WebSocket. Prints one JSON line per event on stdout;
// SIGTERM unsubscribes and stops. Usage: node jssip-watcher.js ws://HOST:PORT/ws sip:EXTEN@HOST
import WebSocket from 'ws';
import JsSIP from 'jssip';

// JsSIP's WebSocketInterface opens `new WebSocket(url, 'sip')`; Node 20 has no such global, the ws class fits.
(globalThis as unknown as { WebSocket: unknown }).WebSocket = WebSocket;

const [server, target] = process.argv.slice(2);
const print = (event: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(event)}\n`);

const ua = new JsSIP.UA({
  sockets: [new JsSIP.WebSocketInterface(server!)],
  uri: 'sip:jssip@example.invalid',
  register: false,
  user_agent: 'JsSIP interop watcher',
});
ua.on('connected', () => {
  const subscriber = ua.subscribe(target!, 'presence', 'application/pidf+xml', { expires: 600 });
  subscriber.on('active', () => print({ event: 'active' }));
  subscriber.on('notify', (isFinal: boolean, request: { getHeader(name: string): string }, body: string | undefined) =>
    print({ event: 'notify', final: isFinal, state: request.getHeader('Subscription-State'), body }),
  );
  subscriber.on('terminated', (code: number) => print({ event: 'terminated', code }));
  subscriber.subscribe();
  process.on('SIGTERM', () => {
    subscriber.terminate();
    setTimeout(() => {
      ua.stop();
      process.exit(0);
    }, 300);
  });
});
ua.start();
