/**
 * Resource lists (RFC 4662) as an event package over another one: a SUBSCRIBE whose Request-URI names a list gets
 * one subscription whose NOTIFYs carry every member's state in a multipart/related body with an RLMI root. Members are
 * resolved and rendered by the inner package (presence: PIDF, XPIDF…); each member's part is built once per state
 * change and shared by every list and watcher carrying it. The lists are those of pjsip.conf, by name, and those a
 * SUBSCRIBE to the list server's user carries in its body (RFC 5367, see request-list.ts).
 */
import { ERRORS, sipAnswer, type SipAnswer } from '../errors.js';
import type { HintDirectory } from '../presence/hint-directory.js';
import type { Dialplan, Hint } from '../presence/hints.js';
import { splitHeaderValues } from '../sip/headers.js';
import type { SipRequest } from '../sip/message.js';
import { BODY_COUNTER, type BodyType, type EventPackage } from '../subscriptions/event-package.js';
import type { Subscription } from '../subscriptions/subscription.js';
import type { ResourceList } from './resource-lists.js';
import { ListBodyError, parseRequestListName, requestListMembers, requestListName } from './request-list.js';
import { isLinphone, listEventToken } from './linphone-compat.js';
import { bodyPart, listBody, multipartType, RLMI_TYPE, type ListResource } from './rlmi.js';

/** A list body type: the multipart wrapper, and the body type of its members' parts. */
export interface ListBodyType extends BodyType {
  readonly member: BodyType;
}

/** RFC 4662 §5.1: the option tag a subscriber must support for list NOTIFYs. */
const EVENTLIST = 'eventlist';
/** Accept values that name the wrapper, not a member body type. */
const WRAPPER_TYPES = new Set(['multipart/related', RLMI_TYPE]);

interface CachedPart { readonly part: string; readonly keys: readonly string[] }

/** A list member resolved in the current dialplan, with the state keys its part depends on. */
interface Member {
  readonly name: string;
  /** The URI a request-contained list named it by; pjsip.conf members are `sip:NAME@host` of the list's own URI. */
  readonly uri: string | undefined;
  readonly hint: Hint | undefined;
  readonly keys: readonly string[];
}

/** RFC 5367 request-contained lists: the list server's user (`--rls-uri`) and the most members one list may have. */
export interface RequestListSettings {
  readonly serverUser: string;
  readonly maxMembers: number;
}

/** Request-contained lists read back from their resource names, kept while this many are in use at most. */
const REQUEST_LIST_CACHE = 1024;
/** Cached member parts; past this many (request-contained lists name any URIs) the cache starts again. */
const PART_CACHE = 65_536;

export class ResourceListPackage implements EventPackage {
  readonly event: string;
  readonly counted = true;
  readonly bodyTypes: readonly ListBodyType[];
  /** RFC 4662 §5.2: the 200 and every NOTIFY require the extension. */
  readonly dialogHeaders: Array<[string, string]> = [['Require', EVENTLIST]];
  private readonly parts = new Map<string, CachedPart>();
  /** State key → cached parts built from it, dropped when it changes. */
  private readonly partsByKey = new Map<string, Set<string>>();
  private readonly resolved = new Map<string, readonly Member[]>();
  private resolvedIn: Dialplan | undefined;
  private readonly requestLists = new Map<string, ResourceList>();

  constructor(
    private readonly inner: EventPackage,
    private lists: ReadonlyMap<string, ResourceList>,
    private readonly hints: HintDirectory,
    private readonly listServer?: RequestListSettings,
  ) {
    this.event = inner.event;
    this.bodyTypes = inner.bodyTypes.map((member) => ({
      contentType: multipartType(`presenced-${member.contentType.replace(/[^a-z0-9]+/gi, '-')}`),
      member,
    }));
  }

  /** Whether `user` names one of this package's lists: a pjsip.conf list, the list server, or a request-contained list. */
  names(user: string): boolean {
    if (this.lists.has(user)) return true;
    const server = this.listServer?.serverUser;
    return server !== undefined && (user === server || user.startsWith(`${server} `));
  }

  /**
   * RFC 5367: a SUBSCRIBE to the list server's user defines its list in the body; the resource is that list, written
   * out (see requestListName). A pjsip.conf list of the same name takes the server's place.
   */
  resourceOf(request: SipRequest, user: string): string | { answer: SipAnswer; headers: Array<[string, string]> } {
    if (!this.listServer || this.lists.has(user)) return user;
    // Only a body makes a request-contained list; a Request-URI that spells one out names nothing.
    if (user !== this.listServer.serverUser) return { answer: sipAnswer(ERRORS.NO_HINT), headers: [] };
    try {
      return requestListName(user, requestListMembers(request, this.listServer.maxMembers));
    } catch (error) {
      if (!(error instanceof ListBodyError)) throw error;
      return { answer: error.answer, headers: error.headers };
    }
  }

  /** A new set of lists (reload); subscriptions to lists that are gone end with noresource on reresolve. */
  useLists(lists: ReadonlyMap<string, ResourceList>): void {
    this.lists = lists;
    this.resolved.clear();
    this.parts.clear();
    this.partsByKey.clear();
  }

  /** RFC 4662 §5.1: a list SUBSCRIBE without `Supported: eventlist` is refused with 421 and `Require: eventlist`. */
  admit(request: SipRequest): { answer: SipAnswer; headers: Array<[string, string]> } | undefined {
    const supported = request.getAll('supported').flatMap(splitHeaderValues).map((tag) => tag.trim().toLowerCase());
    if (supported.includes(EVENTLIST)) return undefined;
    return { answer: sipAnswer(ERRORS.EXTENSION_REQUIRED, EVENTLIST), headers: [['Require', EVENTLIST]] };
  }

  negotiate(acceptValues: string[]): ListBodyType | undefined {
    // RFC 4662 §5.2: the watcher lists multipart/related and application/rlmi+xml besides its member types.
    const memberValues = acceptValues
      .flatMap(splitHeaderValues)
      .filter((value) => !WRAPPER_TYPES.has(value.split(';')[0]!.trim().toLowerCase()));
    const member = this.inner.negotiate(acceptValues.length > 0 && memberValues.length === 0 ? [] : memberValues);
    return member && this.bodyTypes.find((type) => type.member === member);
  }

  /** A list as a resource: its name and the text it was configured with, so a reload that changes it is noticed. */
  resolve(_dialplan: Dialplan, user: string, context: string): Hint | undefined {
    const list = this.listOf(user);
    if (!list) return undefined;
    return { exten: user, context, devices: [], text: `list ${(list.uris ?? list.members).join(',')}`, file: list.file, line: list.line };
  }

  stateKeys(resource: Hint): readonly string[] {
    const keys = new Set<string>();
    for (const member of this.members(resource)) for (const key of member.keys) keys.add(key);
    return [...keys];
  }

  variantKey(subscription: Subscription): string {
    const { format, presentity, hint, context, digium, userAgent } = subscription;
    return `list\n${format.contentType}\n${presentity}\n${hint.text}\n${context}\n${digium}\n${isLinphone(userAgent)}`;
  }

  /** Linphone reads list NOTIFYs only as `Event: Presence` (see linphone-compat.ts). */
  eventToken(subscription: Subscription): string {
    return listEventToken(this.event, subscription.userAgent);
  }

  /** Full state: every resource of the list, each with its part (or terminated). */
  render(subscription: Subscription): string {
    return this.body(subscription, undefined);
  }

  /**
   * RFC 4662 §5.2 with `full_state=no`: only the members whose state changed since the watcher's last NOTIFY, each
   * from its cached part, under `fullState="false"`. A `full_state=yes` list sends full state every time.
   */
  renderChanges(subscription: Subscription, changed: (key: string) => boolean): string | undefined {
    if (this.listOf(subscription.exten)?.fullState !== false) return undefined;
    return this.body(subscription, (member) => member.keys.some(changed));
  }

  /** The multipart body over the members `include` picks (all of them, as full state, when it is undefined). */
  private body(subscription: Subscription, include: ((member: Member) => boolean) | undefined): string {
    const format = subscription.format as ListBodyType;
    const host = subscription.presentity.slice(subscription.presentity.lastIndexOf('@') + 1);
    const resources: ListResource[] = [];
    const parts: string[] = [];
    for (const member of this.members(subscription.hint)) {
      if (include && !include(member)) continue;
      const uri = member.uri ?? `sip:${member.name}@${host}`;
      // A member the watcher named by URI keeps the watcher's own name for it: RLMI <name> is left out.
      const name = member.uri === undefined ? member.name : undefined;
      if (!member.hint) {
        resources.push({ uri, name, cid: undefined, terminated: 'rejected' });
        continue;
      }
      const cid = `${member.name}@${host}`;
      resources.push({ uri, name, cid });
      parts.push(this.part(subscription, format.member, member, member.hint, uri, cid));
    }
    const boundary = /boundary=([^;]+)/.exec(format.contentType)![1]!;
    return listBody(boundary, subscription.presentity, BODY_COUNTER, include === undefined, resources, parts);
  }

  /** `notification_batch_interval`: member changes within it go out in one NOTIFY. */
  batchMs(subscription: Subscription): number {
    return this.listOf(subscription.exten)?.batchMs ?? 0;
  }

  /** A member's state changed: its parts are built again when next needed. */
  stateChanged(key: string): void {
    const cached = this.partsByKey.get(key);
    if (!cached) return;
    this.partsByKey.delete(key);
    for (const id of cached) this.parts.delete(id);
  }

  /** The list's members resolved in the current dialplan; kept until the dialplan or the lists change. */
  /** A list by the name its subscriptions keep: a pjsip.conf list, or a request-contained list written out. */
  private listOf(name: string): ResourceList | undefined {
    const named = this.lists.get(name);
    if (named || !this.listServer) return named;
    let list = this.requestLists.get(name);
    if (list) return list;
    const members = parseRequestListName(this.listServer.serverUser, name);
    if (!members) return undefined;
    // RFC 5367 leaves batching and partial state to the server: changes at once, partial state after the first.
    list = { name, event: this.event, members: members.map((m) => m.user), uris: members.map((m) => m.uri), fullState: false, batchMs: 0, file: '', line: 0 };
    if (this.requestLists.size >= REQUEST_LIST_CACHE) this.requestLists.clear();
    this.requestLists.set(name, list);
    return list;
  }

  private members(resource: Hint): readonly Member[] {
    const list = this.listOf(resource.exten);
    if (!list) return [];
    const dialplan = this.hints.current;
    if (this.resolvedIn !== dialplan) {
      this.resolvedIn = dialplan;
      this.resolved.clear();
    }
    const key = `${list.name}\n${resource.context}`;
    let members = this.resolved.get(key);
    if (!members) {
      members = list.members.map((name, index) => {
        const hint = name === '' ? undefined : this.inner.resolve(dialplan, name, resource.context);
        return { name, uri: list.uris?.[index], hint, keys: hint ? this.inner.stateKeys(hint) : [] };
      });
      if (this.resolved.size >= REQUEST_LIST_CACHE) this.resolved.clear();
      this.resolved.set(key, members);
    }
    return members;
  }

  /** The member's body part, rendered by the inner package once per state and shared. */
  private part(subscription: Subscription, type: BodyType, member: Member, hint: Hint, uri: string, cid: string): string {
    const bareId = isLinphone(subscription.userAgent);
    const id = `${type.contentType}\n${uri}\n${cid}\n${hint.context}\n${hint.text}\n${subscription.digium}\n${bareId}`;
    const cached = this.parts.get(id);
    if (cached) return cached.part;
    const view: Subscription = { ...subscription, presentity: uri, exten: member.name, hint, format: type };
    const part = bodyPart(type.contentType, cid, this.inner.render(view), bareId);
    if (this.parts.size >= PART_CACHE) {
      this.parts.clear();
      this.partsByKey.clear();
    }
    this.parts.set(id, { part, keys: member.keys });
    for (const key of member.keys) {
      let ids = this.partsByKey.get(key);
      if (!ids) this.partsByKey.set(key, (ids = new Set()));
      ids.add(id);
    }
    return part;
  }
}
