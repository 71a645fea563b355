/**
 * Reads the XML documents phones send (PIDF, dialog-info) safely and with namespaces resolved: a size cap, no
 * DOCTYPE (so no entity can be declared or fetched), well-formedness checked first, character references decoded
 * by XML 1.0's rules, and each element's namespace resolved against its xmlns declarations, whatever the prefixes.
 */
import { XMLParser, XMLValidator, type EntityDecoderOptions } from 'fast-xml-parser';

/** An element with its namespace resolved (XML Namespaces 1.0 §6). Unprefixed names without a default namespace
 *  and undeclared prefixes have no namespace (''). */
export interface XmlElement {
  namespace: string;
  local: string;
  attributes: Record<string, unknown>;
  children: OrderedNode[];
  scope: ReadonlyMap<string, string>;
}

/** The parser's node: `{ [qualified name]: children, ':@'?: attributes }` or `{ '#text': text }`. */
type OrderedNode = Record<string, unknown>;

/** Why a document cannot be read; the message names the problem ("larger than 65536 bytes", "(line 3): …"). */
class XmlReadError extends Error {
  override name = 'XmlReadError';
}

const PREDEFINED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const ENTITY_REFERENCE = /&(?:#x([0-9A-Fa-f]+)|#([0-9]+)|(amp|lt|gt|quot|apos));/g;

function isXmlChar(codePoint: number): boolean {
  // XML 1.0 section 2.2, production [2] Char.
  return codePoint === 0x9 || codePoint === 0xa || codePoint === 0xd ||
    (codePoint >= 0x20 && codePoint <= 0xd7ff) || (codePoint >= 0xe000 && codePoint <= 0xfffd) ||
    (codePoint >= 0x10000 && codePoint <= 0x10ffff);
}

/**
 * XML 1.0 sections 4.1 and 4.6: character references and the five predefined entities, nothing else
 * (documents with a DOCTYPE are refused, so no other entity can be declared).
 */
const xmlEntityDecoder: EntityDecoderOptions = {
  setExternalEntities: () => undefined,
  addInputEntities: () => undefined,
  reset: () => undefined,
  setXmlVersion: () => undefined,
  decode: (text) => text.includes('&') ? text.replace(ENTITY_REFERENCE, (reference, hex?: string, decimal?: string, name?: string) => {
    if (name !== undefined) return PREDEFINED_ENTITIES[name]!;
    const codePoint = hex !== undefined ? parseInt(hex, 16) : Number(decimal);
    if (!isXmlChar(codePoint)) throw new XmlReadError(`invalid character reference '${reference}'`);
    return String.fromCodePoint(codePoint);
  }) : text,
};

// preserveOrder keeps document order ("the first <basic>") and the prefixes, which are resolved against the
// xmlns declarations below; text is not trimmed by the parser so CDATA sections join their neighbours intact.
const orderedParser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  entityDecoder: xmlEntityDecoder,
});

const EMPTY_SCOPE: ReadonlyMap<string, string> = new Map();

function nodeName(node: OrderedNode): string | undefined {
  for (const key in node) if (key !== ':@') return key;
  return undefined;
}

/** The element children of `children`, in document order (text, comments and processing instructions skipped). */
export function elementsOf(children: OrderedNode[], parentScope: ReadonlyMap<string, string>): XmlElement[] {
  const elements: XmlElement[] = [];
  for (const node of children) {
    const name = nodeName(node);
    const content = name === undefined ? undefined : node[name];
    if (name === undefined || name.startsWith('#') || name.startsWith('?') || !Array.isArray(content)) continue;
    const attributes = (node[':@'] ?? {}) as Record<string, unknown>;
    const scope = declaredScope(attributes, parentScope);
    const colon = name.indexOf(':');
    const prefix = colon === -1 ? '' : name.slice(0, colon);
    elements.push({
      namespace: scope.get(prefix) ?? '',
      local: colon === -1 ? name : name.slice(colon + 1),
      attributes,
      children: content as OrderedNode[],
      scope,
    });
  }
  return elements;
}

/** The element children of an element. */
export function childrenOf(element: XmlElement): XmlElement[] {
  return elementsOf(element.children, element.scope);
}

/** The parent's scope plus this element's `xmlns` / `xmlns:p` declarations (a new map only when there are any). */
function declaredScope(attributes: Record<string, unknown>, parent: ReadonlyMap<string, string>): ReadonlyMap<string, string> {
  let scope: Map<string, string> | undefined;
  for (const name in attributes) {
    if (name !== 'xmlns' && !name.startsWith('xmlns:')) continue;
    const value = attributes[name];
    if (typeof value !== 'string') continue;
    scope ??= new Map(parent);
    scope.set(name === 'xmlns' ? '' : name.slice(6), value.trim());
  }
  return scope ?? parent;
}

export function attribute(element: XmlElement, name: string): string | undefined {
  const value = element.attributes[name];
  return typeof value === 'string' ? value.trim() : undefined;
}

/** The element's own text: its text and CDATA children joined, line breaks with their indentation folded into one
 *  space, and trimmed (status texts are one line). */
export function textOf(element: XmlElement): string {
  let text = '';
  for (const node of element.children) {
    const value = node['#text'];
    if (typeof value === 'string') text += value;
  }
  return text.replace(/[ \t]*[\r\n][ \t\r\n]*/g, ' ').trim();
}

export function firstText(elements: XmlElement[], matches: (element: XmlElement) => boolean): string | undefined {
  const found = elements.find(matches);
  return found === undefined ? undefined : textOf(found);
}

/**
 * The root element of a document of at most `maxBytes` bytes, or undefined for a document without one. A larger
 * document, any DOCTYPE, and anything that is not well-formed throw `fail`'s error with a message naming the problem
 * ('Malformed PIDF: DOCTYPE is not allowed', 'Malformed PIDF (line 3): …' for `documentKind` 'PIDF').
 */
export function readXmlRoot(xml: string, maxBytes: number, documentKind: string, fail: (message: string) => Error): XmlElement | undefined {
  try {
    return readRoot(xml, maxBytes);
  } catch (error) {
    if (!(error instanceof XmlReadError)) throw error;
    throw fail(`Malformed ${documentKind}${error.message.startsWith('(') ? ' ' : ': '}${error.message}`);
  }
}

function readRoot(xml: string, maxBytes: number): XmlElement | undefined {
  if (Buffer.byteLength(xml) > maxBytes) throw new XmlReadError(`larger than ${maxBytes} bytes`);
  if (/<!DOCTYPE/i.test(xml)) throw new XmlReadError('DOCTYPE is not allowed');
  const validation = XMLValidator.validate(xml);
  if (validation !== true) throw new XmlReadError(`(line ${validation.err.line}): ${validation.err.msg}`);
  let nodes: OrderedNode[];
  try {
    nodes = orderedParser.parse(xml) as OrderedNode[];
  } catch (error) {
    if (error instanceof XmlReadError) throw error;
    // Reserved names (__proto__, constructor), nesting deeper than the parser allows.
    throw new XmlReadError((error as Error).message);
  }
  return elementsOf(nodes, EMPTY_SCOPE)[0];
}
