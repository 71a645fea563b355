/** A small levelled logger writing one line per event to stderr (stdout is kept for the startup line). */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
const ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };
export const LOG_LEVELS = Object.keys(ORDER) as LogLevel[];

export interface Logger {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
  enabled(level: LogLevel): boolean;
}

/** Longest message written; errors may carry a stack trace, so they get more room. */
const MAX_MESSAGE = 1024;
const MAX_ERROR_MESSAGE = 8192;
// C0 controls (line breaks included: one event, one line), DEL and C1 controls: a log line must not be able to forge
// another line or drive the terminal that shows it (`\x1b[2J`).
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;

/** One line of printable text, at most `max` characters of the message (then how many were left out). */
export function sanitize(message: string, max: number): string {
  const cut = message.length > max ? `${message.slice(0, max)}… (${message.length - max} more characters)` : message;
  return cut.replace(CONTROL_CHARACTERS, (char) => {
    if (char === '\n') return '\\n';
    if (char === '\r') return '\\r';
    if (char === '\t') return '\\t';
    return `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

export function createLogger(level: LogLevel, write: (line: string) => void = (line) => process.stderr.write(line)): Logger {
  const max = ORDER[level];
  const emit = (at: LogLevel, message: string): void => {
    if (ORDER[at] <= max) write(`${new Date().toISOString()} ${at.toUpperCase()} ${sanitize(message, at === 'error' ? MAX_ERROR_MESSAGE : MAX_MESSAGE)}\n`);
  };
  return {
    error: (m) => emit('error', m),
    warn: (m) => emit('warn', m),
    info: (m) => emit('info', m),
    debug: (m) => emit('debug', m),
    enabled: (at) => ORDER[at] <= max,
  };
}
