import type { SipRequest } from './message.js';
import { parseNameAddr } from './headers.js';
import { detach } from '../util/strings.js';
import type { Flow } from './transport.js';

/**
 * Non-INVITE server transactions (RFC 3261 §17.2.2), reduced to what a UAS that answers at once needs: a retransmitted
 * request gets the same final response again and is not processed twice. The response is kept for Timer J (64·T1) on
 * UDP; on TCP retransmissions do not happen and Timer J is zero (§17.2.2), so nothing is kept.
 *
 * Instead of a timer per transaction, entries live in two generations that rotate every Timer J: an entry lives at
 * least Timer J and at most twice that, with one interval timer for all.
 */
export interface ServerTransaction { response?: string }

export class ServerTransactions {
  private current = new Map<string, ServerTransaction>();
  private previous = new Map<string, ServerTransaction>();
  private readonly rotation: NodeJS.Timeout;

  /** `expired` hears, at each rotation, how many transactions ended and how many are left (the last interval's). */
  constructor(timerJms: number, expired: (ended: number, left: number) => void = () => undefined) {
    this.rotation = setInterval(() => {
      const ended = this.previous.size;
      this.previous = this.current;
      this.current = new Map();
      if (ended > 0) expired(ended, this.previous.size);
    }, timerJms);
    this.rotation.unref();
  }

  /** The transaction a retransmission belongs to, or undefined for a new request. */
  match(req: SipRequest, flow: Flow): ServerTransaction | undefined {
    if (flow.kind.reliable) return undefined;
    const key = transactionKey(req);
    return key === undefined ? undefined : (this.current.get(key) ?? this.previous.get(key));
  }

  /** Remembers the request's transaction so that its retransmissions are absorbed. */
  begin(req: SipRequest, flow: Flow): ServerTransaction {
    const transaction: ServerTransaction = {};
    if (flow.kind.reliable) return transaction;
    const key = transactionKey(req);
    // The key is built from slices of the request: detached, so the cache does not keep the whole request alive.
    if (key !== undefined) this.current.set(detach(key), transaction);
    return transaction;
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }

  stop(): void {
    clearInterval(this.rotation);
  }
}

/**
 * §17.2.3: with the magic cookie the branch, the sent-by and the method identify the transaction; for RFC 2543 peers
 * the Request-URI, To tag, From tag, Call-ID, CSeq and top Via do.
 */
function transactionKey(req: SipRequest): string | undefined {
  const via = req.topVia();
  if (!via) return undefined;
  const branch = via.params['branch'];
  const sentBy = `${via.host}:${via.port ?? ''}`;
  if (branch && branch.startsWith('z9hG4bK')) return `${branch}|${sentBy}|${req.method}`;
  const toTag = tagOf(req.get('to'));
  const fromTag = tagOf(req.get('from'));
  return `${req.uri}|${toTag}|${fromTag}|${req.get('call-id')}|${req.get('cseq')}|${req.getAll('via')[0]}`;
}

function tagOf(value: string | undefined): string {
  return (value === undefined ? undefined : parseNameAddr(value)?.params['tag']) ?? '';
}
