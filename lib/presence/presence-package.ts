/**
 * The presence event package (RFC 3856): a hint's CustomPresence provider and its devices' extension state rendered
 * as PIDF, CPIM-PIDF or XPIDF.
 */
import type { EventPackage } from '../subscriptions/event-package.js';
import type { Subscription } from '../subscriptions/subscription.js';
import type { RequestHandler } from '../sip/stack.js';
import { BODY_FORMATS, bodyFormat, negotiateBody, PIDF_FORMAT } from './bodies.js';
import type { DeviceService } from '../devices/device-service.js';
import type { Dialplan, Hint } from './hints.js';
import type { PresenceService } from './presence-service.js';

export const PRESENCE_EVENT = 'presence';

export class PresencePackage implements EventPackage {
  readonly event = PRESENCE_EVENT;
  readonly bodyTypes = BODY_FORMATS;
  readonly counted = false;

  constructor(private readonly presence: PresenceService, private readonly devices: DeviceService, readonly publish: RequestHandler) {}

  negotiate(acceptValues: string[]): ReturnType<typeof negotiateBody> {
    return negotiateBody(acceptValues);
  }

  resolve(dialplan: Dialplan, user: string, context: string): Hint | undefined {
    return dialplan.resolve(user, context);
  }

  /** The presence provider and the devices: PIDF bodies follow the device too ("On the phone"). */
  stateKeys(hint: Hint): readonly string[] {
    const devices = this.devices.devicesOf(hint);
    return hint.presence === undefined ? devices : [hint.presence, ...devices];
  }

  variantKey(subscription: Subscription): string {
    const { format, presentity, exten, hint, digium } = subscription;
    return `${format.contentType}\n${presentity}\n${exten}\n${hint.text}\n${digium}`;
  }

  render(subscription: Subscription): string {
    const format = bodyFormat(subscription.format.contentType) ?? PIDF_FORMAT;
    return format.build({
      entity: subscription.presentity,
      tupleId: subscription.exten,
      hasDevice: subscription.hint.devices.length > 0,
      device: this.devices.extensionState(subscription.hint),
      presence: this.presence.stateOf(subscription.hint.presence),
      digium: subscription.digium,
    });
  }
}
