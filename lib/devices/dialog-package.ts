/**
 * The dialog event package (RFC 4235) for busy-lamp keys: a hint's devices, combined into its extension state,
 * rendered as one dialog-info document per change, with each watcher's own `version` stamped in.
 */
import type { EventPackage } from '../subscriptions/event-package.js';
import { BODY_COUNTER } from '../subscriptions/event-package.js';
import { negotiate } from '../subscriptions/negotiate.js';
import type { Subscription } from '../subscriptions/subscription.js';
import type { RequestHandler } from '../sip/stack.js';
import type { Dialplan, Hint } from '../presence/hints.js';
import { randomHex } from '../util/random.js';
import type { DeviceService } from './device-service.js';
import { buildDialogInfo, DIALOG_INFO_TYPE, dialogPhase, type DialogPhase } from './dialog-info.js';

export const DIALOG_EVENT = 'dialog';

const DIALOG_INFO = { contentType: DIALOG_INFO_TYPE } as const;

/** The call a hint's lamp shows now: its dialog id and phase. */
interface Call { id: number; phase: DialogPhase }

export class DialogPackage implements EventPackage {
  readonly event = DIALOG_EVENT;
  readonly bodyTypes = [DIALOG_INFO];
  readonly counted = true;
  /** Dialog ids are `<run>-<n>`: unique across restarts, so a phone never mixes a call of an earlier run with one of now. */
  private readonly run = randomHex(4);
  private nextCall = 1;
  private readonly calls = new Map<string, Call>();

  constructor(private readonly devices: DeviceService, readonly publish?: RequestHandler) {}

  negotiate(acceptValues: string[]): typeof DIALOG_INFO | undefined {
    return negotiate(acceptValues, this.bodyTypes);
  }

  resolve(dialplan: Dialplan, user: string, context: string): Hint | undefined {
    return dialplan.resolve(user, context);
  }

  stateKeys(hint: Hint): readonly string[] {
    return this.devices.devicesOf(hint);
  }

  variantKey(subscription: Subscription): string {
    return `${subscription.presentity}\n${subscription.exten}\n${subscription.hint.text}`;
  }

  render(subscription: Subscription): string {
    const state = this.devices.extensionState(subscription.hint);
    const call = this.callOf(`${subscription.exten}@${subscription.context}`, dialogPhase(state));
    return buildDialogInfo({ entity: subscription.presentity, version: BODY_COUNTER, dialogId: `${this.run}-${call.id}`, state });
  }

  /**
   * The call behind a phase change. A new call starts when something rings or is up after nothing was, and when
   * something rings after a call was up: so for one dialog id the phases only go early → confirmed → terminated,
   * and no watcher sees a confirmed dialog step back to early (Polycom ignores that).
   */
  private callOf(resource: string, phase: DialogPhase): Call {
    const current = this.calls.get(resource);
    const startsCall = phase !== 'terminated' && (!current || current.phase === 'terminated' || (current.phase === 'confirmed' && phase === 'early'));
    const call = startsCall || !current ? { id: this.nextCall++, phase } : { id: current.id, phase };
    this.calls.set(resource, call);
    return call;
  }
}
