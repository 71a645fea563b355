/**
 * One AMI connection: the banner, requests answered one at a time in arrival order, events delivered to a logged-in
 * client according to its read= classes and event mask. Like Asterisk, events raised while an action runs are held
 * and follow its response. A client that does not read what it is sent is dropped instead of buffered without bound.
 */
import type net from 'node:net';
import type { Logger } from '../../util/log.js';
import type { ActionOutcome, SessionState } from './ami-actions.js';
import type { AmiUser } from './ami-config.js';
import type { AmiEvent } from './ami-events.js';
import { AMI_BANNER, AmiFramer, type FramedMessage, type FramingLimits } from './ami-protocol.js';

export interface SessionLimits extends FramingLimits {
  /** Output waiting for a client (socket buffer and held events); past this the client is dropped. */
  maxBufferedBytes: number;
  /** Requests read but not answered yet; past this, reading pauses until the client catches up. */
  maxPendingRequests: number;
  /** A client that has not logged in after this long is disconnected. */
  authTimeoutMs: number;
}

export interface SessionHandlers {
  answer(framed: FramedMessage, session: AmiSession): Promise<ActionOutcome>;
  closed(session: AmiSession): void;
}

export class AmiSession implements SessionState {
  user: AmiUser | undefined;
  challenge: string | undefined;
  /** Asterisk's send_events starts as -1: every class. */
  eventMask = -1;
  private readonly framer: AmiFramer;
  /** Requests read but not answered: `pending[next]` onwards (an index, as one chunk may hold thousands). */
  private pending: FramedMessage[] = [];
  private next = 0;
  private answering = false;
  private held: string[] = [];
  private heldBytes = 0;
  private ending = false;
  private readonly authTimer: NodeJS.Timeout;

  constructor(
    private readonly socket: net.Socket,
    readonly remoteAddress: string,
    private readonly limits: SessionLimits,
    private readonly handlers: SessionHandlers,
    private readonly log: Logger,
  ) {
    this.framer = new AmiFramer(limits);
    this.authTimer = setTimeout(() => this.drop(`did not log in within ${limits.authTimeoutMs / 1000} s`), limits.authTimeoutMs).unref();
    socket.setEncoding('utf8');
    socket.setNoDelay(true);
    socket.on('data', (chunk: string) => this.receive(chunk));
    socket.on('error', (failure) => this.log.debug(`ami: ${this.remoteAddress}: ${failure.message}`));
    socket.on('close', () => this.closed());
    this.write(AMI_BANNER);
  }

  get isOpen(): boolean {
    return !this.ending && !this.socket.destroyed;
  }

  loggedIn(user: AmiUser): void {
    this.user = user;
    clearTimeout(this.authTimer);
  }

  /** Delivers `event` if this client is logged in, may read its class and has not filtered it out. */
  deliver(event: AmiEvent): void {
    const { user } = this;
    if (!user || !this.isOpen) return;
    if ((user.read & event.category) !== event.category || (this.eventMask & event.category) !== event.category) return;
    if (!this.answering) {
      this.write(event.text);
      return;
    }
    this.heldBytes += Buffer.byteLength(event.text);
    if (this.heldBytes + this.socket.writableLength > this.limits.maxBufferedBytes) {
      this.drop('does not read its events');
      return;
    }
    this.held.push(event.text);
  }

  /** Closes the connection without a word (server shutdown). */
  destroy(): void {
    this.ending = true;
    this.socket.destroy();
  }

  private receive(chunk: string): void {
    // A loop, not push(...): one chunk of bare newlines holds tens of thousands of (empty) requests.
    for (const framed of this.framer.push(chunk)) this.pending.push(framed);
    if (this.pending.length - this.next >= this.limits.maxPendingRequests) this.socket.pause();
    void this.answerPending();
  }

  private takePending(): FramedMessage | undefined {
    const framed = this.pending[this.next++];
    if (this.next >= this.pending.length) {
      this.pending = [];
      this.next = 0;
    }
    return framed;
  }

  private async answerPending(): Promise<void> {
    if (this.answering) return;
    this.answering = true;
    for (let framed = this.takePending(); framed && this.isOpen; framed = this.takePending()) {
      const outcome = await this.handlers.answer(framed, this);
      if (!this.isOpen) break;
      this.write(outcome.output + this.takeHeld());
      if (outcome.close) {
        this.ending = true;
        this.socket.end();
      }
    }
    this.answering = false;
    if (this.isOpen) {
      this.write(this.takeHeld());
      this.socket.resume();
    }
  }

  private takeHeld(): string {
    const text = this.held.join('');
    this.held = [];
    this.heldBytes = 0;
    return text;
  }

  private write(text: string): void {
    if (text === '' || this.socket.destroyed) return;
    // The backlog decides, not the new text: one large answer (a long list) is fine for a client that reads.
    if (this.socket.writableLength > this.limits.maxBufferedBytes) {
      this.drop('does not read what it is sent');
      return;
    }
    this.socket.write(text);
  }

  private drop(reason: string): void {
    if (this.socket.destroyed) return;
    this.log.warn(`ami: ${this.user ? `'${this.user.name}' at ` : ''}${this.remoteAddress} ${reason}; disconnected`);
    this.destroy();
  }

  private closed(): void {
    clearTimeout(this.authTimer);
    this.ending = true;
    this.pending = [];
    this.next = 0;
    this.held = [];
    this.handlers.closed(this);
  }
}
