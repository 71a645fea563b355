/**
 * The AMI wire format (manager.c): a banner line on connect, then messages of `Key: Value` lines closed by an empty
 * line, in both directions. Lines end with CRLF; a bare LF is accepted from clients, as Asterisk's get_input does.
 */

/** AMI protocol version in the banner; clients check the `Asterisk Call Manager/` prefix. */
export const AMI_VERSION = '9.0.0';
export const AMI_BANNER = `Asterisk Call Manager/${AMI_VERSION}\r\n`;

/** One request from a client: its header lines as received (lines without a colon are kept, and ignored). */
export class AmiMessage {
  constructor(readonly lines: readonly string[]) {}

  /**
   * The value of the first `name:` line, name matched case-insensitively and followed directly by the colon, with
   * leading blanks skipped (astman_get_header); '' when there is none.
   */
  get(name: string): string {
    return this.find(name, false);
  }

  /** Like get, but skipping lines whose value is empty (how Asterisk reads `Action:`). */
  getNonEmpty(name: string): string {
    return this.find(name, true);
  }

  private find(name: string, skipEmpty: boolean): string {
    const length = name.length;
    for (const line of this.lines) {
      if (line.length > length && line[length] === ':' && line.slice(0, length).toLowerCase() === name.toLowerCase()) {
        const value = line.slice(length + 1).replace(/^[ \t]+/, '');
        if (!skipEmpty || value !== '') return value;
      }
    }
    return '';
  }
}

/** A message read off the wire, or one that broke a limit: it gets `reason` as an error (with its ActionID). */
export type FramedMessage = { message: AmiMessage; error?: string };

export interface FramingLimits {
  /** Longest line accepted; a longer one is discarded and its message answered with an error. */
  maxLineLength: number;
  /** Most lines in one message (Asterisk: AST_MAX_MANHEADERS); more make the message an error. */
  maxLines: number;
}

/** Asterisk's messages for the two limits (manager.c do_message). */
export const LINE_TOO_LONG = 'Failed to parse message: line too long';
export const TOO_MANY_LINES = 'Too many lines in message or allocation failure';

/**
 * Cuts a client's byte stream (decoded as UTF-8) into messages. Memory stays bounded: at most one partial line of
 * maxLineLength characters and maxLines lines are ever kept.
 */
export class AmiFramer {
  private partial = '';
  /** Inside a line that is already too long: its remaining characters are dropped up to the next LF. */
  private skippingLine = false;
  private lines: string[] = [];
  private error: string | undefined;

  constructor(private readonly limits: FramingLimits) {}

  /** The messages completed by `chunk`, in order. */
  push(chunk: string): FramedMessage[] {
    const messages: FramedMessage[] = [];
    let start = 0;
    for (let newline = chunk.indexOf('\n'); newline >= 0; newline = chunk.indexOf('\n', start)) {
      const piece = chunk.slice(start, newline);
      start = newline + 1;
      if (this.skippingLine) {
        this.skippingLine = false;
        continue;
      }
      const raw = this.partial + piece;
      this.partial = '';
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line.length > this.limits.maxLineLength) {
        this.error ??= LINE_TOO_LONG;
        continue;
      }
      const complete = this.endLine(line);
      if (complete) messages.push(complete);
    }
    this.keepPartial(chunk.slice(start));
    return messages;
  }

  private keepPartial(rest: string): void {
    if (this.skippingLine) return;
    this.partial += rest;
    // +1: the line's CR may still be waiting for its LF.
    if (this.partial.length > this.limits.maxLineLength + 1) {
      this.partial = '';
      this.skippingLine = true;
      this.error ??= LINE_TOO_LONG;
    }
  }

  private endLine(line: string): FramedMessage | undefined {
    if (line !== '') {
      if (this.lines.length < this.limits.maxLines) this.lines.push(line);
      else this.error ??= TOO_MANY_LINES;
      return undefined;
    }
    const framed: FramedMessage = { message: new AmiMessage(this.lines), ...(this.error ? { error: this.error } : {}) };
    this.lines = [];
    this.error = undefined;
    return framed;
  }
}

export type AmiFields = ReadonlyArray<readonly [name: string, value: string]>;

// CR and LF would end a line early and let a value inject headers or whole messages into the stream.
const LINE_BREAKS = /[\r\n]/g;

/** `Name: value` lines and the closing empty line. */
export function formatBlock(fields: AmiFields): string {
  let text = '';
  for (const [name, value] of fields) text += `${name}: ${value.replace(LINE_BREAKS, '')}\r\n`;
  return text + '\r\n';
}

/** `ActionID` is echoed only when the client sent one, as Asterisk does. */
export function actionIdField(message: AmiMessage): AmiFields {
  const id = message.get('ActionID');
  return id === '' ? [] : [['ActionID', id]];
}

export type ResponseKind = 'Success' | 'Error' | 'Goodbye';

export interface ResponseParts {
  /** `Message:` right after the ActionID (and EventList), as astman_send_response_full writes it. */
  text?: string;
  /** `EventList: start` for a listack. */
  eventList?: 'start';
  /** Fields that follow (astman_start_ack + astman_append). */
  fields?: AmiFields;
}

/** A response in Asterisk's field order: Response, ActionID, EventList, Message, then the rest. */
export function formatResponse(kind: ResponseKind, request: AmiMessage, parts: ResponseParts = {}): string {
  return formatBlock([
    ['Response', kind],
    ...actionIdField(request),
    ...(parts.eventList ? [['EventList', parts.eventList] as const] : []),
    ...(parts.text === undefined ? [] : [['Message', parts.text] as const]),
    ...(parts.fields ?? []),
  ]);
}

/** An event that answers a list action: `Event`, the request's ActionID, then the fields (no Privilege). */
export function formatListEvent(name: string, request: AmiMessage, fields: AmiFields): string {
  return formatBlock([['Event', name], ...actionIdField(request), ...fields]);
}

/** The closing event of a list action (astman_send_list_complete_start/end). */
export function formatListComplete(name: string, request: AmiMessage, count: number): string {
  return formatListEvent(name, request, [['EventList', 'Complete'], ['ListItems', String(count)]]);
}
