/**
 * The levelled logger every module gets, on pino: one JSON object per line (for journald, Loki, Elastic…) or, on a
 * terminal, one readable line. Whatever a peer controls ends up in log lines (a presence note, a User-Agent, an
 * AMI user name), so every control character of a message or field is escaped — no value can start a forged line
 * or drive a terminal — and long values are cut. Output goes to stderr; stdout is kept for the startup line.
 */
import { pino, type DestinationStream } from 'pino';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug'];
export type LogFormat = 'json' | 'pretty';
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];

/** Structured fields of one line: JSON keys beside the message, `key=value` after it in the pretty format. */
export type LogFields = Record<string, string | number | boolean | undefined>;

export interface Logger {
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  enabled(level: LogLevel): boolean;
}

/** Longest message written whole (errors may carry a stack trace, so they get more room), and longest field value. */
export const MAX_MESSAGE_CHARS = 1024;
const MAX_ERROR_CHARS = 8192;
export const MAX_FIELD_CHARS = 500;

/** C0 and C1 controls, DEL, and the Unicode line and paragraph separators. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeControl(char: string): string {
  const code = char.charCodeAt(0);
  return NAMED[char] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`);
}

/** `text` safe for a log line: control characters escaped (`\n`, `\x1b`, `\u2028`), cut after `max` characters. */
export function sanitize(text: string, max = MAX_FIELD_CHARS): string {
  const escaped = CONTROL.test(text) ? text.replace(CONTROLS, escapeControl) : text;
  return escaped.length <= max ? escaped : `${escaped.slice(0, max)}… (${escaped.length - max} more characters)`;
}

function escapeFields(fields: LogFields): LogFields {
  const safe: LogFields = {};
  for (const [key, value] of Object.entries(fields)) safe[key] = typeof value === 'string' ? sanitize(value) : value;
  return safe;
}

/** pino's JSON line as `2026-01-01T00:00:00.000Z INFO message key=value`. */
function prettyLine(json: string): string {
  const { time, level, msg, ...fields } = JSON.parse(json) as { time: string; level: string; msg: string } & LogFields;
  const extra = Object.entries(fields).map(([key, value]) => ` ${key}=${typeof value === 'string' && /[\s"=]/.test(value) ? JSON.stringify(value) : String(value)}`);
  return `${time} ${level.toUpperCase()} ${msg}${extra.join('')}\n`;
}

const toStderr = (line: string): void => void process.stderr.write(line);

/** A logger writing lines of `format` through `write` (stderr by default). */
export function createLogger(level: LogLevel, write: (line: string) => void = toStderr, format: LogFormat = 'pretty'): Logger {
  const destination: DestinationStream = { write: format === 'json' ? write : (line) => write(prettyLine(line)) };
  const log = pino(
    { level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } },
    destination,
  );
  const at = (level: LogLevel) => (message: string, fields?: LogFields): void => {
    if (!log.isLevelEnabled(level)) return;
    const text = sanitize(message, level === 'error' ? MAX_ERROR_CHARS : MAX_MESSAGE_CHARS);
    if (fields) log[level](escapeFields(fields), text);
    else log[level](text);
  };
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), enabled: (level) => log.isLevelEnabled(level) };
}
