/**
 * The AMI actions presenced answers, with Asterisk's gatekeeping (manager.c process_message): a request without
 * Action is an error; before Login only Login, Logoff and Challenge run; an action runs when the user's write= shares
 * a class with the action's (or the action needs none); an unknown action is an error naming ListCommands.
 * Messages, field names and field order are Asterisk's, so clients that parse Asterisk's answers parse these.
 */
import { ERRORS, errorMessage, type ErrorDefinition } from '../../errors.js';
import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { PresenceError, stripControlCharacters, type PresenceState } from '../../presence/state.js';
import { LogSummary } from '../../util/log-summary.js';
import type { Logger } from '../../util/log.js';
import type { PresenceCommands } from '../commands.js';
import { authenticate } from './ami-auth.js';
import type { AmiUser } from './ami-config.js';
import { amiTimestamp, deviceStateChangeFields, extensionStatusFields, isPattern, presenceStateChangeFields } from './ami-events.js';
import type { LoginThrottle } from './ami-login-throttle.js';
import { AMI_CLASSES, classNames, parseEventMask } from './ami-permissions.js';
import {
  formatBlock, formatListComplete, formatListEvent, formatResponse, type AmiMessage, type FramedMessage,
} from './ami-protocol.js';
import { parseDeviceArgument, parsePresenceRead, parsePresenceWrite, readPresenceField, stateFunction, type PresenceRead } from './ami-variables.js';
import { DeviceStateError } from '../../devices/device-state.js';

/** What an action needs to know about, and may change in, the session that sent it. */
export interface SessionState {
  readonly remoteAddress: string;
  /** Set once logged in. */
  readonly user: AmiUser | undefined;
  /** The MD5 challenge handed out by Challenge, kept for the Login that follows. */
  challenge: string | undefined;
  /** Event classes the client asked for (Events action, Login's Events header); all by default. */
  eventMask: number;
  loggedIn(user: AmiUser): void;
}

export interface ActionOutcome {
  output: string;
  /** Close the connection once the output is written (Logoff, failed Login). */
  close?: boolean;
}

export interface ActionServices {
  commands: PresenceCommands;
  /** The current users, by lower-case name (they change on reload). */
  users: () => ReadonlyMap<string, AmiUser>;
  throttle: LoginThrottle;
  log: Logger;
  /** Where ExtensionState looks when the request names no Context. */
  defaultContext: string;
  /** For FullyBooted's Uptime and LastReload. */
  startedAt: number;
}

type ActionResult = string | ActionOutcome;

interface Action {
  synopsis: string;
  /** manager.c's registration authority; 0 means any logged-in user. */
  authority: number;
  run(request: AmiMessage, session: SessionState): ActionResult | Promise<ActionResult>;
}

const CALL_OR_REPORTING = AMI_CLASSES.call | AMI_CLASSES.reporting;
const BEFORE_LOGIN = new Set(['login', 'logoff', 'challenge']);

export class AmiActions {
  private readonly actions = new Map<string, { name: string } & Action>();

  /** Delayed logins come in floods when someone guesses passwords: one line per interval. */
  private readonly summary: LogSummary;

  constructor(private readonly services: ActionServices) {
    this.summary = new LogSummary(services.log);
    const define = (name: string, action: Action): void => void this.actions.set(name.toLowerCase(), { name, ...action });
    define('Login', { synopsis: 'Login Manager', authority: 0, run: (request, session) => this.login(request, session) });
    define('Challenge', { synopsis: 'Generate Challenge for MD5 Auth', authority: 0, run: challenge });
    define('Logoff', { synopsis: 'Logoff Manager', authority: 0, run: logoff });
    define('Ping', { synopsis: 'Keepalive command', authority: 0, run: ping });
    define('Events', { synopsis: 'Control Event Flow', authority: 0, run: events });
    define('ListCommands', { synopsis: 'List available manager commands', authority: 0, run: (request, session) => this.listCommands(request, session) });
    define('PresenceState', { synopsis: 'Check Presence State', authority: CALL_OR_REPORTING, run: (request) => this.presenceState(request) });
    define('PresenceStateList', { synopsis: 'List the current known presence states', authority: CALL_OR_REPORTING, run: (request) => this.presenceStateList(request) });
    define('Getvar', { synopsis: 'Gets a channel variable or function value', authority: CALL_OR_REPORTING, run: (request) => this.getvar(request) });
    define('Setvar', { synopsis: 'Sets a channel variable or function value', authority: AMI_CLASSES.call, run: (request, session) => this.setvar(request, session) });
    define('ExtensionState', { synopsis: 'Check Extension Status', authority: CALL_OR_REPORTING, run: (request) => this.extensionState(request) });
    define('DeviceStateList', { synopsis: 'List the current known device states', authority: CALL_OR_REPORTING, run: (request) => this.deviceStateList(request) });
    define('ExtensionStateList', { synopsis: 'List the current known extension states', authority: CALL_OR_REPORTING, run: (request) => this.extensionStateList(request) });
  }

  /** Answers one message from `session`. Never throws: an unexpected failure becomes an error response. */
  async run(framed: FramedMessage, session: SessionState): Promise<ActionOutcome> {
    const request = framed.message;
    if (framed.error) return { output: error(request, ERRORS.BAD_REQUEST, framed.error) };
    const name = request.getNonEmpty('Action');
    if (name === '') return { output: error(request, ERRORS.MISSING_ACTION) };
    if (!session.user && !BEFORE_LOGIN.has(name.toLowerCase())) return { output: error(request, ERRORS.PERMISSION_DENIED) };
    const action = this.actions.get(name.toLowerCase());
    if (!action) {
      return { output: error(request, ERRORS.UNKNOWN_ACTION, name) };
    }
    if (action.authority !== 0 && ((session.user?.write ?? 0) & action.authority) === 0) {
      return { output: error(request, ERRORS.PERMISSION_DENIED) };
    }
    try {
      const result = await action.run(request, session);
      return typeof result === 'string' ? { output: result } : result;
    } catch (failure) {
      this.services.log.error(`ami: ${action.name} failed: ${(failure as Error).stack ?? String(failure)}`);
      return { output: error(request, ERRORS.ACTION_FAILED, (failure as Error).message) };
    }
  }

  /**
   * Login: answered after the throttle's delay whether it succeeds or not (so hanging up early tells nothing); a
   * failure is logged once and closes the connection.
   */
  private async login(request: AmiMessage, session: SessionState): Promise<ActionResult> {
    if (session.user) return success(request, 'Already authenticated');
    const { users, throttle, log } = this.services;
    const { delayMs, recent } = throttle.attempt(session.remoteAddress);
    if (delayMs > 0) {
      const line = `ami: answering a login from ${session.remoteAddress} after ${delayMs} ms (${recent} recent attempt(s) without success)`;
      this.summary.note('info', 'delayed AMI logins', () => line);
      log.debug(line);
      await sleep(delayMs, undefined, { ref: false });
    }
    const result = authenticate(users(), request, session.remoteAddress, session.challenge);
    if ('failure' in result) {
      // User input in a log line: control characters stripped so that it cannot forge lines.
      log.warn(`ami: ${session.remoteAddress} failed to authenticate as '${stripControlCharacters(request.get('Username'))}' (${result.failure})`);
      return { output: error(request, ERRORS.AUTHENTICATION_FAILED), close: true };
    }
    throttle.succeeded(session.remoteAddress);
    session.loggedIn(result.user);
    const mask = parseEventMask(request.get('Events'));
    if (mask !== undefined) session.eventMask = mask;
    log.info(`ami: '${result.user.name}' logged in from ${session.remoteAddress}`);
    return success(request, 'Authentication accepted') + this.fullyBooted(session, result.user);
  }

  /** Sent after a successful login to clients that read system events, as Asterisk does once it has booted. */
  private fullyBooted(session: SessionState, user: AmiUser): string {
    const system = AMI_CLASSES.system;
    if ((session.eventMask & system) === 0 || (user.read & system) === 0) return '';
    const uptime = String(Math.floor((Date.now() - this.services.startedAt) / 1000));
    return formatBlock([
      ['Event', 'FullyBooted'], ['Privilege', classNames(system)], ['Uptime', uptime], ['LastReload', uptime], ['Status', 'Fully Booted'],
    ]);
  }

  private listCommands(request: AmiMessage, session: SessionState): string {
    const write = session.user?.write ?? 0;
    const fields = [...this.actions.values()]
      .filter((action) => action.authority === 0 || (write & action.authority) !== 0)
      .map((action) => [action.name, `${action.synopsis} (Priv: ${classNames(action.authority)})`] as const);
    return formatResponse('Success', request, { fields });
  }

  /** Asterisk: Message "Presence State", State, then Subtype and Message (and PresenceMessage) when not empty. */
  private presenceState(request: AmiMessage): string {
    const provider = request.get('Provider');
    if (provider === '') return error(request, ERRORS.NO_PROVIDER);
    const state = this.presenceOf(provider);
    if (!state) return error(request, ERRORS.INVALID_PROVIDER, provider);
    return formatResponse('Success', request, {
      fields: [
        ['Message', 'Presence State'],
        ['State', state.state],
        ...(state.subtype === '' ? [] : [['Subtype', state.subtype] as const]),
        // Asterisk keeps the duplicate Message header for old clients and adds PresenceMessage for new ones.
        ...(state.message === '' ? [] : [['Message', state.message] as const, ['PresenceMessage', state.message] as const]),
      ],
    });
  }

  private presenceStateList(request: AmiMessage): string {
    const items = this.services.commands.presenceStates().map(({ provider, state }) =>
      formatListEvent('PresenceStateChange', request, presenceStateChangeFields(provider, state)));
    return formatResponse('Success', request, { eventList: 'start', text: 'Presence State Changes will follow' }) +
      items.join('') + formatListComplete('PresenceStateListComplete', request, items.length);
  }

  /** Every device known (stored Custom: ones and those the hints name), as DeviceStateChange list items. */
  private deviceStateList(request: AmiMessage): string {
    const items = this.services.commands.deviceStates().map(({ device, state }) =>
      formatListEvent('DeviceStateChange', request, deviceStateChangeFields(device, state)));
    return formatResponse('Success', request, { eventList: 'start', text: 'Device State Changes will follow' }) +
      items.join('') + formatListComplete('DeviceStateListComplete', request, items.length);
  }

  /**
   * Getvar of PRESENCE_STATE(...) or DEVICE_STATE(<device>) (any device: Custom: from the store, others from their
   * sources); there are no channels, so a Channel header names one that does not exist.
   */
  private getvar(request: AmiMessage): string {
    const variable = request.get('Variable');
    if (variable === '') return error(request, ERRORS.NO_VARIABLE);
    if (request.get('Channel') !== '') return error(request, ERRORS.NO_SUCH_CHANNEL);
    let read: PresenceRead;
    try {
      if (stateFunction(variable).name === 'DEVICE_STATE') {
        const state = this.services.commands.deviceState(parseDeviceArgument(stateFunction(variable).args));
        return formatResponse('Success', request, { fields: [['Variable', variable], ['Value', state]] });
      }
      read = parsePresenceRead(variable);
    } catch (failure) {
      if (!(failure instanceof PresenceError)) throw failure;
      return error(request, ERRORS.INVALID_VALUE, failure.message);
    }
    const state = this.presenceOf(read.provider);
    if (!state) return error(request, ERRORS.INVALID_PROVIDER, read.provider);
    return formatResponse('Success', request, { fields: [['Variable', variable], ['Value', readPresenceField(state, read)]] });
  }

  /** A provider's state; undefined for anything but `CustomPresence:<name>`. */
  private presenceOf(provider: string): PresenceState | undefined {
    try {
      return this.services.commands.presenceOf(provider);
    } catch (failure) {
      if (failure instanceof PresenceError) return undefined;
      throw failure;
    }
  }

  /**
   * Setvar of PRESENCE_STATE(CustomPresence:<name>) or DEVICE_STATE(Custom:<name>): the CLI's change, validation
   * included (nothing stored on error).
   */
  private async setvar(request: AmiMessage, session: SessionState): Promise<string> {
    const variable = request.get('Variable');
    if (variable === '') return error(request, ERRORS.NO_VARIABLE);
    if (request.get('Channel') !== '') return error(request, ERRORS.NO_SUCH_CHANNEL);
    try {
      const call = stateFunction(variable);
      const source = `ami:${session.user?.name ?? ''}@${session.remoteAddress}`;
      if (call.name === 'DEVICE_STATE') {
        const result = await this.services.commands.changeDevice(parseDeviceArgument(call.args), request.get('Value'));
        this.services.log.info(`state: Custom:${result.name} is ${result.stateText} (by ${source})`);
      } else {
        await this.services.commands.change(parsePresenceWrite(variable), request.get('Value'), source);
      }
    } catch (failure) {
      if (!(failure instanceof PresenceError) && !(failure instanceof DeviceStateError)) throw failure;
      return error(request, ERRORS.VARIABLE_NOT_SET, failure.message);
    }
    return success(request, 'Variable Set');
  }

  private extensionState(request: AmiMessage): string {
    const exten = request.get('Exten');
    if (exten === '') return error(request, ERRORS.NO_EXTENSION);
    const context = request.get('Context') || this.services.defaultContext;
    const hint = this.services.commands.hint(exten, context);
    // Asterisk answers -1 / Unknown (and an empty Hint) for an extension without a hint.
    const statusText = hint?.deviceState ?? 'Unknown';
    return formatResponse('Success', request, {
      fields: [['Message', 'Extension Status'], ...extensionStatusFields({ exten, context, hint: hint?.hint ?? '' }, statusText)],
    });
  }

  /** Every concrete hint, as ExtensionStatus events; pattern hints are skipped as Asterisk does. */
  private extensionStateList(request: AmiMessage): string {
    const hints = this.services.commands.hints().filter((row) => !isPattern(row));
    if (hints.length === 0) return error(request, ERRORS.NO_HINTS);
    const items = hints.map((row) => formatListEvent('ExtensionStatus', request, extensionStatusFields(row, row.deviceState)));
    return formatResponse('Success', request, { eventList: 'start', text: 'Extension Statuses will follow' }) +
      items.join('') + formatListComplete('ExtensionStateListComplete', request, items.length);
  }
}

function success(request: AmiMessage, text: string): string {
  return formatResponse('Success', request, { text });
}

/** An AMI error response with the registry's message (Asterisk's wording). */
function error(request: AmiMessage, failure: ErrorDefinition, detail?: string): string {
  return formatResponse('Error', request, { text: errorMessage(failure, detail) });
}

function challenge(request: AmiMessage, session: SessionState): string {
  if (request.get('AuthType').toLowerCase() !== 'md5') return error(request, ERRORS.MISSING_AUTH_TYPE);
  // Asterisk hands out a random decimal number and keeps it for the session.
  session.challenge ??= String(randomInt(100_000_000, 2 ** 47));
  return formatResponse('Success', request, { fields: [['Challenge', session.challenge]] });
}

function logoff(request: AmiMessage): ActionOutcome {
  return { output: formatResponse('Goodbye', request, { text: 'Thanks for all the fish.' }), close: true };
}

function ping(request: AmiMessage): string {
  return formatResponse('Success', request, { fields: [['Ping', 'Pong'], ['Timestamp', amiTimestamp(Date.now())]] });
}

/** Events: EventMask on/off, a class list or a number (manager.c action_events). */
function events(request: AmiMessage, session: SessionState): string {
  const mask = parseEventMask(request.get('EventMask'));
  if (mask === undefined) return error(request, ERRORS.INVALID_EVENT_MASK);
  session.eventMask = mask;
  return formatResponse('Success', request, { fields: [['Events', mask === 0 ? 'Off' : 'On']] });
}
