/**
 * Reader for Asterisk's configuration-file syntax, the layer below extensions.conf semantics (main/config.c):
 * `;` comments with `\;` escapes, nestable `;-- ... --;` block comments, `[section](options)` headers,
 * `name => value` / `name = value` entries and the `#include` / `#tryinclude` / `#exec` directives.
 * Nothing here throws on bad input: whatever cannot be read becomes a diagnostic and is skipped.
 */
import { dirname, isAbsolute, join, resolve } from 'node:path';

export interface Diagnostic { file: string; line: number; message: string }

interface Located { file: string; line: number }

export interface ConfigSection extends Located {
  kind: 'section';
  /** undefined when the header is malformed: the entries that follow belong to no usable section. */
  name: string | undefined;
  /** `[name](!,tmpl)` gives ['!', 'tmpl']. */
  options: string[];
}

export interface ConfigEntry extends Located {
  kind: 'entry';
  name: string;
  value: string;
}

export type ConfigItem = ConfigSection | ConfigEntry;

/** Returns a file's text; throws (ENOENT...) when it cannot. */
export type ReadFile = (path: string) => string;

interface ReadState {
  readonly readFile: ReadFile;
  readonly diagnostics: Diagnostic[];
  /** Absolute paths of the files being read, outermost first: an #include of one of them is a cycle. */
  readonly including: string[];
}

/**
 * Yields the sections and entries of `text` (read from `file`) in order, splicing #included files in place.
 * Section state is the caller's: as in Asterisk, an included file continues the current section.
 */
export function* readConfig(text: string, file: string, readFile: ReadFile, diagnostics: Diagnostic[]): Generator<ConfigItem> {
  yield* readText(text, file, { readFile, diagnostics, including: [resolve(file)] });
}

function* readText(text: string, file: string, state: ReadState): Generator<ConfigItem> {
  const comments = { depth: 0, openedAt: 0 };
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const line = index + 1;
    const content = stripComments(lines[index], line, comments).trim();
    if (content === '') continue;
    if (content.startsWith('#')) yield* readDirective(content, { file, line }, state);
    else if (content.startsWith('[')) yield readSectionHeader(content, { file, line }, state.diagnostics);
    else {
      const entry = readEntry(content, { file, line });
      if (entry) yield entry;
      else state.diagnostics.push({ file, line, message: `expected "name => value", got "${content}"` });
    }
  }
  if (comments.depth > 0) {
    state.diagnostics.push({ file, line: comments.openedAt, message: 'block comment ";--" is never closed' });
  }
}

/**
 * The part of `text` outside comments, as config.c cuts it: `\;` is a literal `;`, `;--` opens a block comment
 * (but `;---...` is an ordinary comment, as in separator lines), `--;` closes one, and any other `;` ends the line.
 */
function stripComments(text: string, line: number, comments: { depth: number; openedAt: number }): string {
  let kept = '';
  let keptFrom = 0;
  let scanFrom = 0;
  for (let semicolon = text.indexOf(';'); semicolon >= 0; semicolon = text.indexOf(';', scanFrom)) {
    if (semicolon > 0 && text[semicolon - 1] === '\\') {
      if (comments.depth === 0) kept += text.slice(keptFrom, semicolon - 1) + ';';
      keptFrom = scanFrom = semicolon + 1;
    } else if (text.startsWith('--', semicolon + 1) && text[semicolon + 3] !== '-') {
      if (comments.depth === 0) {
        kept += text.slice(keptFrom, semicolon);
        comments.openedAt = line;
      }
      comments.depth++;
      scanFrom = semicolon + 3;
    } else if (comments.depth > 0) {
      const closes = semicolon >= scanFrom + 2 && text.startsWith('--', semicolon - 2);
      scanFrom = semicolon + 1;
      if (closes && --comments.depth === 0) keptFrom = scanFrom;
    } else {
      return kept + text.slice(keptFrom, semicolon);
    }
  }
  return comments.depth > 0 ? kept : kept + text.slice(keptFrom);
}

function* readDirective(content: string, at: Located, state: ReadState): Generator<ConfigItem> {
  const space = content.search(/\s/);
  const directive = space < 0 ? content.slice(1) : content.slice(1, space);
  const argument = space < 0 ? '' : content.slice(space).trim();
  const name = directive.toLowerCase();
  if (name === 'exec') {
    state.diagnostics.push({ ...at, message: '#exec is not supported; ignored' });
    return;
  }
  if (name !== 'include' && name !== 'tryinclude') {
    state.diagnostics.push({ ...at, message: `unknown directive "#${directive}" ignored` });
    return;
  }
  const target = unquote(argument);
  if (target === '') {
    state.diagnostics.push({ ...at, message: `#${name} without a file name ignored` });
    return;
  }
  const path = isAbsolute(target) ? target : join(dirname(at.file), target);
  if (state.including.includes(resolve(path))) {
    state.diagnostics.push({ ...at, message: `#${name} "${target}" ignored: ${path} is already being read (include cycle)` });
    return;
  }
  let text: string;
  try {
    text = state.readFile(path);
  } catch (error) {
    // #tryinclude exists precisely so that a missing file is fine.
    if (name === 'include') {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      state.diagnostics.push({ ...at, message: `#include "${target}": cannot read ${path} (${reason})` });
    }
    return;
  }
  state.including.push(resolve(path));
  yield* readText(text, path, state);
  state.including.pop();
}

/** `"file"` and `<file>` name the same file as `file`. */
function unquote(argument: string): string {
  const quoted = /^"(.*)"$/.exec(argument) ?? /^<(.*)>$/.exec(argument);
  return (quoted ? quoted[1] : argument).trim();
}

/** `[name]`, `[name](+)`, `[name](!)`, `[name](tmpl1,tmpl2)`; text after the header is ignored, as config.c does. */
function readSectionHeader(content: string, at: Located, diagnostics: Diagnostic[]): ConfigSection {
  const invalid = (message: string): ConfigSection => {
    diagnostics.push({ ...at, message: `${message}; its entries are ignored` });
    return { kind: 'section', name: undefined, options: [], ...at };
  };
  const close = content.indexOf(']');
  if (close < 0) return invalid(`section header "${content}" has no closing "]"`);
  const name = content.slice(1, close).trim();
  if (name === '') return invalid('section header "[]" has no name');
  const rest = content.slice(close + 1);
  if (!rest.startsWith('(')) return { kind: 'section', name, options: [], ...at };
  const closeOptions = rest.indexOf(')');
  if (closeOptions < 0) return invalid(`section options of [${name}] have no closing ")"`);
  const options = rest.slice(1, closeOptions).split(',').map((option) => option.trim()).filter((option) => option !== '');
  return { kind: 'section', name, options, ...at };
}

/** `name => value` or `name = value` (the `>` only marks an "object" in Asterisk); undefined if there is no name. */
function readEntry(content: string, at: Located): ConfigEntry | undefined {
  const equals = content.indexOf('=');
  const name = equals < 0 ? '' : content.slice(0, equals).trim();
  if (name === '') return undefined;
  const value = content.slice(equals + 1).replace(/^>/, '').trim();
  return { kind: 'entry', name, value, ...at };
}
