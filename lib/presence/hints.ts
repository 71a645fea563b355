/**
 * The hints of an Asterisk extensions.conf and how a subscription resolves to one (pbx_config.c, pbx.c).
 *
 * Resolution of `exten` in a context, as pbx_find_extension does it:
 *  1. the context's exact hint for `exten`;
 *  2. else its pattern hints, most specific first (below);
 *  3. else its includes, depth-first in the order written, each context searched at most once.
 * So a context is searched fully (patterns included) before anything it includes.
 *
 * Pattern order follows pbx.c ext_cmp_pattern: position by position, the element matching fewer characters wins
 * (a literal, then a [set] by size, N, Z, X), `.` comes after any set, `!` after `.`, and a pattern that ends sorts
 * after one that goes on. Sets of the same size compare by their characters. Identical patterns are duplicates.
 *
 * Template sections (`[tmpl](!)`, `[ctx](tmpl)`) are read as plain contexts: no inheritance is applied.
 */
import { readConfigText } from '../util/config-text.js';
import { readConfig, type ConfigEntry, type ConfigItem, type ConfigSection, type Diagnostic, type ReadFile } from './dialplan-parser.js';

export type { Diagnostic } from './dialplan-parser.js';

export interface Hint {
  /** Concrete extension ('6002'); for a pattern entry the pattern itself ('_6XXX'). */
  exten: string;
  context: string;
  /** The '&'-separated device list: ['SIP/2000'] or []. */
  devices: string[];
  /** 'CustomPresence:2000' (prefix normalised) or any other provider as written; absent when the hint has none. */
  presence?: string;
  /** The hint as `core show hints` prints it: devices joined by '&', then ',' + presence if any. */
  text: string;
  file: string;
  line: number;
}

const CUSTOM_PRESENCE = 'CustomPresence:';
/** Sections of extensions.conf holding settings and variables, not dialplan (pbx_config.c skips them). */
const SETTINGS_SECTIONS = new Set(['general', 'globals']);
/** Context statements that define no hint. */
const NON_HINT_STATEMENTS = new Set(['switch', 'eswitch', 'lswitch', 'ignorepat']);
/** A priority Asterisk reads (pbx_config.c): a number, n/next, s/same (n+1 style offsets), with an optional (label). */
const PRIORITY = /^(?:\d+|n(?:ext)?|s(?:ame)?)(?:[+-]\d+)?(?:\([^)]*\))?$/i;
/** A device of a hint: Tech/resource (PJSIP/6002) or Provider:name (Custom:lamp, Queue:sales_avail), or a variable. */
const DEVICE = /^(?:[A-Za-z][\w-]*[/:][^()\s]+|\$\{[^}]+\}\S*)$/;
/** `${EXTEN}`, `${EXTEN:offset}`, `${EXTEN:offset:length}` (dynamic hints, Asterisk 12+). */
const EXTEN_VARIABLE = /\$\{EXTEN(?::(-?\d+)(?::(-?\d+))?)?\}/g;

/** One position of a pattern: the characters it accepts, or the trailing `.` (one or more) / `!` (zero or more). */
type PatternElement = { kind: 'set'; chars: string } | { kind: 'wildcard'; minLength: 0 | 1 };

interface PatternHint {
  readonly hint: Hint;
  readonly elements: PatternElement[];
  readonly regex: RegExp;
}

interface Include { readonly name: string; readonly file: string; readonly line: number }

interface Context {
  readonly name: string;
  readonly exact: Map<string, Hint>;
  /** Most specific first once loading is done. */
  readonly patterns: PatternHint[];
  /** Canonical form of each pattern → its hint, to spot duplicates. */
  readonly patternKeys: Map<string, Hint>;
  readonly includes: Include[];
  /** The included contexts that exist, in order; filled once loading is done. */
  readonly included: Context[];
}

/** Where the reader is: before any section, in [general]/[globals] or a broken header, or in a context. */
type Section = 'none' | 'ignored' | Context;

const readFromDisk: ReadFile = readConfigText;

export class Dialplan {
  readonly diagnostics: Diagnostic[] = [];
  readonly hints: Hint[] = [];
  readonly contexts: string[] = [];
  private readonly byName = new Map<string, Context>();

  private constructor() {}

  /** Reads `file` and its #includes; throws only when `file` itself cannot be read. */
  static load(file: string): Dialplan {
    let text: string;
    try {
      text = readFromDisk(file);
    } catch (error) {
      throw new Error(`cannot read dialplan ${file}: ${(error as Error).message}`, { cause: error });
    }
    return Dialplan.parse(text, file);
  }

  /** `file` names the text in diagnostics and anchors relative #includes, which `readFile` reads. */
  static parse(text: string, file = '<input>', readFile: ReadFile = readFromDisk): Dialplan {
    const dialplan = new Dialplan();
    dialplan.build(readConfig(text, file, readFile, dialplan.diagnostics));
    return dialplan;
  }

  hasContext(name: string): boolean {
    return this.byName.has(name);
  }

  /** The hint a subscription to `exten` in `context` resolves to, following includes; undefined if none. */
  resolve(exten: string, context: string): Hint | undefined {
    const start = this.byName.get(context);
    if (!start) return undefined;
    const direct = start.exact.get(exten);
    if (direct) return direct; // the common case, without allocating the search state below
    const visited = new Set<Context>();
    const pending = [start];
    for (let current = pending.pop(); current; current = pending.pop()) {
      if (visited.has(current)) continue;
      visited.add(current);
      const found = current.exact.get(exten) ?? matchPattern(current.patterns, exten);
      if (found) return found;
      // Pushed in reverse so that the first include is searched (depth-first) first.
      for (let i = current.included.length - 1; i >= 0; i--) pending.push(current.included[i]);
    }
    return undefined;
  }

  private build(items: Iterable<ConfigItem>): void {
    let section: Section = 'none';
    let lastExten: string | undefined;
    for (const item of items) {
      if (item.kind === 'section') {
        section = this.enterSection(item);
        lastExten = undefined;
      } else if (section === 'none') {
        this.report(item, `"${item.name} => ${item.value}" is outside any [context]; ignored`);
      } else if (section !== 'ignored') {
        lastExten = this.readStatement(section, item, lastExten);
      }
    }
    this.finish();
  }

  /** Repeated [name] sections add to one context, as pbx_config.c's find-or-create does; `(+)` says so explicitly. */
  private enterSection({ name, options, file, line }: ConfigSection): Section {
    if (name === undefined || SETTINGS_SECTIONS.has(name.toLowerCase())) return 'ignored';
    const existing = this.byName.get(name);
    if (existing) return existing;
    if (options.some((option) => option.startsWith('+'))) {
      this.report({ file, line }, `[${name}](+) adds to a context that is not defined before it; created`);
    }
    const context: Context = { name, exact: new Map(), patterns: [], patternKeys: new Map(), includes: [], included: [] };
    this.byName.set(name, context);
    this.contexts.push(name);
    return context;
  }

  /** Handles one statement of a context; returns the extension that a following `same =>` continues. */
  private readStatement(context: Context, entry: ConfigEntry, lastExten: string | undefined): string | undefined {
    const statement = entry.name.toLowerCase();
    switch (statement) {
      case 'exten': {
        const comma = extensionEnd(entry.value);
        const exten = entry.value.slice(0, comma);
        this.readPriority(context, exten, entry.value.slice(comma + 1), entry);
        return exten;
      }
      case 'same':
        if (lastExten === undefined) this.report(entry, '"same =>" without a preceding "exten =>"; ignored');
        else this.readPriority(context, lastExten, entry.value, entry);
        return lastExten;
      case 'include': {
        // `include => name,time spec` (or the older `name|time spec`): the time spec is not evaluated.
        const name = entry.value.split(/[,|]/)[0].trim();
        if (name === '') this.report(entry, '"include =>" without a context name; ignored');
        else context.includes.push({ name, file: entry.file, line: entry.line });
        return lastExten;
      }
      default:
        if (!NON_HINT_STATEMENTS.has(statement)) this.report(entry, `unknown statement "${entry.name}"; ignored`);
        return lastExten;
    }
  }

  /** `priority,data` of an extension: only the `hint` priority matters here; dialplan priorities are skipped. */
  private readPriority(context: Context, rawExten: string, rest: string, at: ConfigEntry): void {
    const comma = rest.indexOf(',');
    const priority = (comma < 0 ? rest : rest.slice(0, comma)).trim();
    if (priority.toLowerCase() !== 'hint') {
      if (!PRIORITY.test(priority) && closeTo(priority.toLowerCase(), 'hint')) {
        this.report(at, `priority "${priority}" of ${rawExten}@${context.name} is not a priority: a misspelt "hint"? ignored`);
      }
      return;
    }
    // `exten => 6002/callerid,hint,...`: the caller-id match plays no part in a subscription.
    const exten = rawExten.split('/')[0].trim();
    if (exten === '') {
      this.report(at, 'hint without an extension; ignored');
      return;
    }
    const data = comma < 0 ? '' : rest.slice(comma + 1);
    const { devices, presence } = parseHintData(data);
    if (devices.length === 0 && presence === undefined) {
      this.report(at, `empty hint for ${exten}@${context.name}; ignored`);
      return;
    }
    for (const device of devices) {
      if (!DEVICE.test(device)) this.report(at, `"${device}" in the hint for ${exten}@${context.name} is not a device (Tech/resource or Provider:name); an application does not belong in a hint`);
    }
    const provider = presence?.split(':')[0] ?? '';
    if (presence !== undefined && !presence.startsWith(CUSTOM_PRESENCE) && closeTo(provider.toLowerCase(), 'custompresence')) {
      this.report(at, `presence provider "${presence}" of ${exten}@${context.name}: a misspelt CustomPresence? Its watchers see not_set`);
    }
    if (exten.startsWith('_')) this.addPattern(context, exten, devices, presence, at);
    else this.addExact(context, exten, devices, presence, at);
  }

  private addExact(context: Context, exten: string, devices: string[], presence: string | undefined, at: ConfigEntry): void {
    const first = context.exact.get(exten);
    if (first) {
      this.reportDuplicate(at, exten, first);
      return;
    }
    // Asterisk substitutes ${EXTEN} in a concrete hint when it is added.
    const hint = substituteExten(makeHint(exten, context.name, devices, presence, at), exten);
    context.exact.set(exten, hint);
    this.hints.push(hint);
  }

  private addPattern(context: Context, exten: string, devices: string[], presence: string | undefined, at: ConfigEntry): void {
    const elements = parsePattern(exten.slice(1));
    if (typeof elements === 'string') {
      this.report(at, `invalid pattern ${exten} (${elements}); hint ignored`);
      return;
    }
    const key = JSON.stringify(elements);
    const first = context.patternKeys.get(key);
    if (first) {
      this.reportDuplicate(at, exten, first);
      return;
    }
    const hint = makeHint(exten, context.name, devices, presence, at);
    context.patternKeys.set(key, hint);
    context.patterns.push({ hint, elements, regex: patternRegex(elements) });
    this.hints.push(hint);
  }

  /** Sorts patterns and links includes now that every context is known. */
  private finish(): void {
    for (const context of this.byName.values()) {
      context.patterns.sort((a, b) => comparePatterns(a.elements, b.elements));
      for (const include of context.includes) {
        const target = this.byName.get(include.name);
        if (target) context.included.push(target);
        else this.report(include, `"include => ${include.name}" names no context; ignored`);
      }
    }
  }

  /** Like Asterisk, the first definition stays and the later one is dropped. */
  private reportDuplicate(at: ConfigEntry, exten: string, first: Hint): void {
    this.report(at, `duplicate hint for ${exten}@${first.context} (first at ${first.file}:${first.line}); ignored`);
  }

  private report(at: { file: string; line: number }, message: string): void {
    this.diagnostics.push({ file: at.file, line: at.line, message });
  }
}

/** Index of the comma ending the extension name (a comma inside a closed [set] belongs to the pattern), or the length. */
function extensionEnd(value: string): number {
  for (let i = 0; i < value.length; i++) {
    if (value[i] === ',') return i;
    if (value[i] === '[') i = Math.max(i, value.indexOf(']', i));
  }
  return value.length;
}

/** `devices[,presence]` as pbx.c splits a hint: the devices, then everything after the first comma. */
function parseHintData(data: string): { devices: string[]; presence: string | undefined } {
  const comma = data.indexOf(',');
  const devices = (comma < 0 ? data : data.slice(0, comma)).split('&').map((device) => device.trim()).filter((device) => device !== '');
  const provider = comma < 0 ? '' : data.slice(comma + 1).trim();
  if (provider === '') return { devices, presence: undefined };
  const isCustom = provider.slice(0, CUSTOM_PRESENCE.length).toLowerCase() === CUSTOM_PRESENCE.toLowerCase();
  return { devices, presence: isCustom ? CUSTOM_PRESENCE + provider.slice(CUSTOM_PRESENCE.length) : provider };
}

function makeHint(exten: string, context: string, devices: string[], presence: string | undefined, at: ConfigEntry | Hint): Hint {
  const text = presence === undefined ? devices.join('&') : `${devices.join('&')},${presence}`;
  return { exten, context, devices, ...(presence === undefined ? {} : { presence }), text, file: at.file, line: at.line };
}

/** `hint` with ${EXTEN} replaced by `exten` in its devices and presence, named after `exten`. */
function substituteExten(hint: Hint, exten: string): Hint {
  const substitute = (value: string): string => value.replace(EXTEN_VARIABLE, (_match, offset?: string, length?: string) =>
    substring(exten, offset === undefined ? 0 : Number(offset), length === undefined ? undefined : Number(length)));
  const presence = hint.presence === undefined ? undefined : substitute(hint.presence);
  return makeHint(exten, hint.context, hint.devices.map(substitute), presence, hint);
}

/** `${VAR:offset:length}` semantics (pbx.c substring): negative offset counts from the end, negative length drops
 *  that many characters from the end. */
function substring(value: string, offset: number, length: number | undefined): string {
  const start = offset < 0 ? Math.max(0, value.length + offset) : offset;
  if (length === undefined) return value.slice(start);
  return length >= 0 ? value.slice(start, start + length) : value.slice(start, Math.max(start, value.length + length));
}

function matchPattern(patterns: PatternHint[], exten: string): Hint | undefined {
  for (const pattern of patterns) {
    if (pattern.regex.test(exten)) return substituteExten(pattern.hint, exten);
  }
  return undefined;
}

/**
 * The elements of a pattern without its leading `_` (pbx.c _extension_match_core): X = 0-9, Z = 1-9, N = 2-9 (any
 * case), [1-5a] a set, `.` one or more and `!` zero or more characters (the rest of the pattern is then unused),
 * spaces and '-' ignored, anything else literal. Returns the reason when the pattern is invalid.
 */
function parsePattern(body: string): PatternElement[] | string {
  const elements: PatternElement[] = [];
  for (let i = 0; i < body.length; i++) {
    const char = body[i];
    switch (char.toUpperCase()) {
      case 'X': elements.push(charSet('0123456789')); break;
      case 'Z': elements.push(charSet('123456789')); break;
      case 'N': elements.push(charSet('23456789')); break;
      case '.': elements.push({ kind: 'wildcard', minLength: 1 }); return elements;
      case '!': elements.push({ kind: 'wildcard', minLength: 0 }); return elements;
      case ' ': case '-': break;
      case '[': {
        const end = body.indexOf(']', i + 1);
        if (end < 0) return 'unclosed "["';
        const set = charSet(expandRanges(body.slice(i + 1, end)));
        if (set.chars === '') return `empty set "${body.slice(i, end + 1)}"`;
        elements.push(set);
        i = end;
        break;
      }
      default: elements.push(charSet(char));
    }
  }
  return elements.length > 0 ? elements : 'nothing after "_"';
}

/** `1-5a` → `12345a`. */
function expandRanges(spec: string): string {
  let chars = '';
  for (let i = 0; i < spec.length; i++) {
    if (spec[i + 1] === '-' && i + 2 < spec.length) {
      for (let code = spec.charCodeAt(i); code <= spec.charCodeAt(i + 2); code++) chars += String.fromCharCode(code);
      i += 2;
    } else {
      chars += spec[i];
    }
  }
  return chars;
}

function charSet(chars: string): { kind: 'set'; chars: string } {
  return { kind: 'set', chars: [...new Set(chars)].sort().join('') };
}

function patternRegex(elements: PatternElement[]): RegExp {
  const source = elements.map((element) => {
    if (element.kind === 'wildcard') return element.minLength === 1 ? '.+' : '.*';
    if (element.chars.length === 1) return element.chars.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    return `[${element.chars.replace(/[\\\]^-]/g, '\\$&')}]`;
  });
  return new RegExp(`^${source.join('')}$`, 's');
}

/** Negative when `a` is more specific than `b` (see the order at the top of this file). */
function comparePatterns(a: PatternElement[], b: PatternElement[]): number {
  for (let i = 0; ; i++) {
    const order = compareElements(a[i], b[i]);
    if (order !== 0 || a[i] === undefined) return order;
  }
}

function compareElements(a: PatternElement | undefined, b: PatternElement | undefined): number {
  const byKind = elementRank(a) - elementRank(b);
  if (byKind !== 0 || a?.kind !== 'set' || b?.kind !== 'set') return byKind;
  if (a.chars.length !== b.chars.length) return a.chars.length - b.chars.length;
  return a.chars < b.chars ? -1 : a.chars > b.chars ? 1 : 0;
}

/** A set, then `.`, then `!`, then the end of the pattern. */
function elementRank(element: PatternElement | undefined): number {
  if (element === undefined) return 3;
  return element.kind === 'set' ? 0 : element.minLength === 1 ? 1 : 2;
}

/** Whether `word` is within two single-character edits of `target` (Levenshtein): a likely typo. */
function closeTo(word: string, target: string): boolean {
  if (Math.abs(word.length - target.length) > 2) return false;
  const previous = Array.from({ length: target.length + 1 }, (_, j) => j);
  for (let i = 1; i <= word.length; i++) {
    let diagonal = previous[0];
    previous[0] = i;
    for (let j = 1; j <= target.length; j++) {
      const above = previous[j];
      previous[j] = Math.min(previous[j] + 1, previous[j - 1] + 1, diagonal + (word[i - 1] === target[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return previous[target.length] <= 2;
}
