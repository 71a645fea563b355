import { parseMessage, SipParseError } from './parser.js';
import { SipRequest, SipResponse } from './message.js';
import { buildResponse, responseDestination, stampReceived, type ResponseOptions } from './response.js';
import { checkRequest } from './validate.js';
import { cseqMethod } from './headers.js';
import { ServerTransactions, type ServerTransaction } from './server-transactions.js';
import { encodeMessage } from './wire-encoder.js';
import { NonInviteClientTransaction, type OutgoingRequest, type TimerSettings, type TransactionOwner, type TransactionResult } from './client-transaction.js';
import { describeFlow, type Admission, type Connection, type Flow, type Transport, type ViaTransport } from './transport.js';
import { ERRORS, sipAnswer, type SipAnswer } from '../errors.js';
import type { Logger } from '../util/log.js';
import type { Principal } from './pipeline.js';
import { newTag } from '../util/random.js';
import { TimerQueue } from '../util/timer-queue.js';
import { LogSummary } from '../util/log-summary.js';
import { checkRequestSize, type SizeLimits } from '../limits/request-size.js';
import { RequestQueue } from './request-queue.js';

export const PRODUCT = 'presenced/0.1.0';

/** A request that passed the RFC 3261 §8.2 checks, with the means to answer it once. */
export interface IncomingRequest {
  request: SipRequest;
  flow: Flow;
  /** Set by the authenticate step; absent in open mode. */
  principal?: Principal;
  respond(answer: SipAnswer, options?: ResponseOptions): void;
}

export type RequestHandler = (incoming: IncomingRequest) => void;

/**
 * What the core reports as it works, for metrics (lib/metrics): each final answer it gives, each request it starts,
 * retransmits and completes (`status` 408 on Timer F and 503 on a transport failure have no `response`).
 */
export interface StackObserver {
  answered(method: string, status: number): void;
  requestSent(method: string): void;
  requestRetransmitted(method: string): void;
  requestCompleted(method: string, result: TransactionResult): void;
}

const UNOBSERVED: StackObserver = { answered: () => undefined, requestSent: () => undefined, requestRetransmitted: () => undefined, requestCompleted: () => undefined };

/** Overload control (lib/overload): a request it says to `shed()` gets `refusal()`. */
export interface OverloadGate {
  /**
   * Whether to refuse a request now: `newWork` if it would create state (a SUBSCRIBE outside a dialog, a PUBLISH
   * without SIP-If-Match), `queuedMs` how long it would wait behind the requests already queued.
   */
  shed(newWork: boolean, queuedMs: number): boolean;
  refusal(): SipAnswer & { headers: Array<[string, string]> };
}

/**
 * The SIP core: turns datagrams and stream messages into requests for the application and sends its responses and
 * requests, with RFC 3261 §17 transactions in between. It knows transports only through the Transport interface.
 */
export class SipStack {
  private readonly transports = new Map<ViaTransport, Transport>();
  private readonly serverTransactions: ServerTransactions;
  private readonly requests = new RequestQueue();
  private readonly clientTransactions = new Map<string, NonInviteClientTransaction>();
  private handler: RequestHandler = () => undefined;
  private overloadGate: OverloadGate | undefined;
  private observer: StackObserver = UNOBSERVED;
  private admit: (remoteHost: string) => Admission = () => 'accept';
  /** Junk arrives in floods: each kind is logged once per interval with a count. */
  private readonly summary: LogSummary;

  /** `transactionsEnded` hears how many server transactions ended after Timer J, and how many are left. */
  constructor(
    transports: Transport[],
    private readonly log: Logger,
    private readonly timers: TimerSettings,
    transactionsEnded?: (ended: number, left: number) => void,
    private readonly sizes: SizeLimits = { maxHeaderBytes: Infinity, maxRequestBytes: Infinity },
  ) {
    for (const transport of transports) this.transports.set(transport.kind.via, transport);
    this.summary = new LogSummary(log);
    // Timer J = 64·T1 (§17.2.2).
    this.serverTransactions = new ServerTransactions(64 * timers.t1, transactionsEnded);
  }

  /**
   * `connectionClosed` hears of every connection a reliable transport loses; `admit` is the address gate, asked
   * before anything from a source is parsed (and when a connection is accepted).
   */
  async start(
    handler: RequestHandler,
    connectionClosed: (connection: Connection) => void = () => undefined,
    admit: (remoteHost: string) => Admission = () => 'accept',
  ): Promise<void> {
    this.handler = handler;
    this.admit = admit;
    for (const transport of this.transports.values()) {
      await transport.listen({ message: (raw, flow, declaredBytes) => this.receive(raw, flow, declaredBytes), closed: connectionClosed, admit });
    }
  }

  async stop(): Promise<void> {
    this.requests.clear();
    this.serverTransactions.stop();
    this.summary.stop();
    for (const transaction of this.clientTransactions.values()) transaction.cancel();
    this.clientTransactions.clear();
    this.transactionOwner.timers.stop();
    for (const transport of this.transports.values()) await transport.close();
  }

  /** Sheds new work while the gate says the server is overloaded. */
  useOverloadGate(gate: OverloadGate): void {
    this.overloadGate = gate;
  }

  /** Reports the core's work to `observer` (metrics). */
  observe(observer: StackObserver): void {
    this.observer = observer;
  }

  listening(): Transport[] {
    return [...this.transports.values()];
  }

  /** Sends a request in a new non-INVITE client transaction; `done` gets its final outcome exactly once. */
  sendRequest(request: OutgoingRequest, done: (result: TransactionResult) => void): NonInviteClientTransaction {
    this.observer.requestSent(request.method);
    const transaction = new NonInviteClientTransaction(request, this.timers, this.transactionOwner, done);
    if (!transaction.done) this.clientTransactions.set(request.branch, transaction);
    return transaction;
  }

  private readonly transactionOwner: TransactionOwner = {
    transmit: (request, retransmission) => {
      if (retransmission) this.observer.requestRetransmitted(request.method);
      return this.transports.get(request.flow.kind.via)?.send(request.flow, encodeMessage(request.head, request.body), request.fallback) ?? false;
    },
    completed: (transaction, result) => {
      this.clientTransactions.delete(transaction.request.branch);
      this.observer.requestCompleted(transaction.request.method, result);
      transaction.onResult(result);
    },
    timers: new TimerQueue<NonInviteClientTransaction>((transaction) => transaction.timerFired()),
  };

  get pendingClientTransactions(): number {
    return this.clientTransactions.size;
  }

  private receive(raw: Buffer, flow: Flow, declaredBytes = raw.length): void {
    const admission = this.admit(flow.remoteHost);
    if (admission === 'drop') return;
    let message: SipRequest | SipResponse;
    try {
      message = parseMessage(raw);
    } catch (error) {
      const reason = error instanceof SipParseError ? error.message : String(error);
      this.summary.note('warn', 'unparseable messages', () => `sip: dropped unparseable message (${raw.length} bytes) from ${describeFlow(flow)}: ${reason}`);
      return;
    }
    if (admission === 'refuse') this.refuse(message, flow);
    else if (message instanceof SipResponse) {
      // Without its body a response cannot be acted on; nobody answers a response.
      if (declaredBytes === raw.length) this.receiveResponse(message, flow);
    } else this.receiveRequest(message, flow, declaredBytes);
  }

  /** §17.1.3: a response matches the client transaction whose branch is in its top Via and whose method is in CSeq. */
  private receiveResponse(response: SipResponse, flow: Flow): void {
    const branch = response.topViaBranch();
    const transaction = branch ? this.clientTransactions.get(branch) : undefined;
    if (!transaction || transaction.request.method !== cseqMethod(response.get('cseq'))) {
      this.log.debug(`sip: stray ${response.status} response from ${describeFlow(flow)}`);
      return;
    }
    transaction.receive(response);
  }

  private receiveRequest(request: SipRequest, flow: Flow, requestBytes: number): void {
    // §18.2.1 / RFC 3581 §4: record where the request really came from before anything answers it.
    stampReceived(request, flow.remoteHost, flow.remotePort);
    const retransmitted = this.serverTransactions.match(request, flow);
    if (retransmitted) {
      // §17.2.2: a retransmission gets the last response again and is not processed again.
      if (retransmitted.response) this.sendResponse(request, flow, retransmitted.response);
      return;
    }
    // §17: ACK has no response; there is no INVITE here for it to acknowledge.
    if (request.method === 'ACK') return;
    if (!responseDestination(request)) {
      this.summary.note('warn', 'requests without a usable Via', () => `sip: dropped ${request.method} from ${describeFlow(flow)}: no usable Via to answer to`);
      return;
    }
    // Shed before validation and any handler, and statelessly (§8.2.7): a flood of refused requests leaves nothing
    // behind for 32 s, and the rare retransmission of one whose 503 was lost is decided afresh.
    if (this.overloadGate?.shed(isNewWork(request), this.requests.waitMs())) {
      const refusal = this.overloadGate.refusal();
      this.answerStatelessly(request, flow, refusal, refusal.headers);
      return;
    }
    // The transaction exists from now on, so a retransmission that arrives while the request is queued is absorbed.
    const transaction = this.serverTransactions.begin(request, flow);
    this.requests.push(() => this.handleRequest(request, flow, requestBytes, transaction));
  }

  private handleRequest(request: SipRequest, flow: Flow, requestBytes: number, transaction: ServerTransaction): void {
    // A ban (--auth-ban) that came while this request waited in the queue applies to it as well.
    if (this.admit(flow.remoteHost) === 'drop') return;
    let answered = false;
    const respond = ({ status, reason }: SipAnswer, options: ResponseOptions = {}): void => {
      if (answered) return;
      answered = true;
      // §8.2.6.2: a final response gets a To tag; errors outside a dialog get a fresh one.
      const text = buildResponse(request, status, reason, {
        ...options,
        toTag: options.toTag ?? newTag(),
        headers: [...(options.headers ?? []), ['Server', PRODUCT]],
      });
      transaction.response = text;
      this.sendResponse(request, flow, text);
      this.observer.answered(request.method, status);
    };
    try {
      const problem = checkRequestSize(request, requestBytes, this.sizes) ?? checkRequest(request);
      if (problem) {
        this.summary.note('warn', 'rejected requests', () => `sip: ${problem.status} ${problem.reason} for ${request.method} from ${describeFlow(flow)}`);
        respond(problem);
        return;
      }
      this.handler({ request, flow, respond });
    } catch (error) {
      this.log.error(`sip: ${request.method} handler failed: ${(error as Error).stack ?? String(error)}`);
      respond(sipAnswer(ERRORS.INTERNAL));
    }
  }

  /** A source the gate refuses: its requests get one stateless 403 (and nothing else is looked at), its responses nothing. */
  private refuse(message: SipRequest | SipResponse, flow: Flow): void {
    if (message instanceof SipResponse || message.method === 'ACK' || message.topVia() === undefined) return;
    this.summary.note('warn', 'requests from refused addresses', () => `sip: 403 for ${message.method} from ${describeFlow(flow)}: address not permitted`);
    stampReceived(message, flow.remoteHost, flow.remotePort);
    this.answerStatelessly(message, flow, sipAnswer(ERRORS.ADDRESS_DENIED));
  }

  /** §8.2.7: a response for which nothing is kept; a retransmitted request gets a new one. */
  private answerStatelessly(request: SipRequest, flow: Flow, { status, reason }: SipAnswer, headers: Array<[string, string]> = []): void {
    this.sendResponse(request, flow, buildResponse(request, status, reason, { toTag: newTag(), headers: [...headers, ['Server', PRODUCT]] }));
    this.observer.answered(request.method, status);
  }

  /** §18.2.2: on a reliable transport on the request's connection; over UDP to received/rport (RFC 3581) or the sent-by port. */
  private sendResponse(request: SipRequest, flow: Flow, text: string): void {
    const transport = this.transports.get(flow.kind.via);
    if (!transport) return;
    if (flow.kind.reliable) {
      transport.send(flow, text);
      return;
    }
    const destination = responseDestination(request);
    if (destination) transport.send({ ...flow, remoteHost: destination.host, remotePort: destination.port }, text);
  }
}

/** A request that would create state: a SUBSCRIBE outside a dialog, or a PUBLISH without SIP-If-Match. */
function isNewWork(request: SipRequest): boolean {
  if (request.method === 'SUBSCRIBE') return !/;\s*tag\s*=/i.test(request.get('to') ?? '');
  return request.method === 'PUBLISH' && request.get('sip-if-match') === undefined;
}
