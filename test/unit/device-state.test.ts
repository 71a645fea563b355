// Device states and their aggregation into extension states, as Asterisk's devicestate.c and pbx.c do it.
import { expect } from 'chai';
import {
  aggregateDeviceStates, deviceKey, extensionStateOf, parseCustomChange, parseDeviceState, type DeviceState, type ExtensionState,
} from '../../lib/devices/device-state.js';
import { PresencedError } from '../../lib/errors.js';

describe('devices/device-state', () => {
  describe('aggregation of a hint\'s devices (ast_devstate_aggregate_add → ast_devstate_to_extenstate)', () => {
    const TABLE: Array<[DeviceState[], DeviceState, ExtensionState]> = [
      [[], 'NOT_INUSE', 'Idle'],
      [['NOT_INUSE'], 'NOT_INUSE', 'Idle'],
      [['UNKNOWN'], 'UNKNOWN', 'Idle'],
      [['INUSE'], 'INUSE', 'InUse'],
      [['BUSY'], 'BUSY', 'Busy'],
      [['RINGING'], 'RINGING', 'Ringing'],
      [['ONHOLD'], 'ONHOLD', 'Hold'],
      [['RINGINUSE'], 'RINGINUSE', 'InUse&Ringing'],
      [['INVALID'], 'INVALID', 'Unavailable'],
      [['UNAVAILABLE'], 'UNAVAILABLE', 'Unavailable'],
      [['UNAVAILABLE', 'UNAVAILABLE'], 'UNAVAILABLE', 'Unavailable'],
      [['UNAVAILABLE', 'NOT_INUSE'], 'NOT_INUSE', 'Idle'],
      [['NOT_INUSE', 'UNAVAILABLE'], 'NOT_INUSE', 'Idle'],
      [['UNKNOWN', 'UNAVAILABLE'], 'UNAVAILABLE', 'Unavailable'],
      [['INVALID', 'UNKNOWN'], 'UNKNOWN', 'Idle'],
      [['RINGING', 'INUSE'], 'RINGINUSE', 'InUse&Ringing'],
      [['INUSE', 'RINGING'], 'RINGINUSE', 'InUse&Ringing'],
      [['RINGING', 'BUSY'], 'RINGINUSE', 'InUse&Ringing'],
      [['ONHOLD', 'RINGING'], 'RINGINUSE', 'InUse&Ringing'],
      [['RINGING', 'NOT_INUSE', 'INUSE'], 'RINGINUSE', 'InUse&Ringing'],
      [['BUSY', 'INUSE'], 'BUSY', 'Busy'],
      [['INUSE', 'BUSY'], 'BUSY', 'Busy'],
      [['ONHOLD', 'NOT_INUSE'], 'ONHOLD', 'Hold'],
      [['ONHOLD', 'INUSE'], 'INUSE', 'InUse'],
      [['RINGING', 'NOT_INUSE'], 'RINGING', 'Ringing'],
      [['RINGING', 'UNAVAILABLE'], 'RINGING', 'Ringing'],
      [['NOT_INUSE', 'INUSE', 'NOT_INUSE'], 'INUSE', 'InUse'],
    ];
    for (const [devices, combined, extension] of TABLE) {
      it(`${devices.join(' & ') || '(no devices)'} → ${combined} → ${extension}`, function () {
        expect(aggregateDeviceStates(devices)).to.equal(combined);
        expect(extensionStateOf(aggregateDeviceStates(devices))).to.equal(extension);
      });
    }
  });

  describe('names', () => {
    it('parses the nine states in any case and nothing else', function () {
      expect(parseDeviceState('inuse')).to.equal('INUSE');
      expect(parseDeviceState('Not_InUse')).to.equal('NOT_INUSE');
      for (const bad of ['', 'IDLE', 'IN USE', 'toString', 'constructor']) expect(parseDeviceState(bad), bad).to.equal(undefined);
    });

    it('normalises the Custom: prefix only', function () {
      expect(deviceKey('custom:2000')).to.equal('Custom:2000');
      expect(deviceKey('CUSTOM:DND2000')).to.equal('Custom:DND2000');
      expect(deviceKey('PJSIP/2000')).to.equal('PJSIP/2000');
    });

    it('validates a devicestate change like Asterisk, with an error for each bad input', function () {
      expect(parseCustomChange('Custom:2000', 'inuse')).to.deep.equal({ name: '2000', state: 'INUSE' });
      expect(parseCustomChange('custom:DND2000', 'BUSY')).to.deep.equal({ name: 'DND2000', state: 'BUSY' });
      const refusals: Array<[string, string, RegExp]> = [
        ['PJSIP/2000', 'INUSE', /only be used to set 'Custom:' device state/],
        ['Custom:', 'INUSE', /Missing custom device name/],
        ['Custom:  ', 'INUSE', /Missing custom device name/],
        ['Custom:20&00', 'INUSE', /Invalid custom device name/],
        ['Custom:2000', 'SLEEPING', /Unknown device state 'SLEEPING' \(expected one of: UNKNOWN, NOT_INUSE/],
        ['Custom:2000', '', /Unknown device state ''/],
      ];
      for (const [device, state, message] of refusals) {
        expect(() => parseCustomChange(device, state), `${device} ${state}`).to.throw(PresencedError, message);
      }
    });
  });
});
