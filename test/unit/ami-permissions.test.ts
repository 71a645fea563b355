import { expect } from 'chai';
import { ALL_CLASSES, AMI_CLASSES, classNames, parseClassList, parseEventMask } from '../../lib/control/ami/ami-permissions.js';

describe('ami/permissions', () => {
  it('uses Asterisk\'s bit for each class, so numeric masks mean the same', () => {
    expect(AMI_CLASSES.system).to.equal(1);
    expect(AMI_CLASSES.call).to.equal(2);
    expect(AMI_CLASSES.reporting).to.equal(512);
    expect(AMI_CLASSES.security).to.equal(1 << 18);
    expect(AMI_CLASSES.message).to.equal(1 << 30);
    expect(ALL_CLASSES).to.equal(2 ** 31 - 1);
  });

  it('reads read=/write= lists case-insensitively, reporting names that are no class', () => {
    expect(parseClassList('system, Call,reporting')).to.deep.equal({ mask: 1 | 2 | 512, unknown: [] });
    expect(parseClassList('call,originat,,none')).to.deep.equal({ mask: 2, unknown: ['originat'] });
    expect(parseClassList('all').mask).to.equal(ALL_CLASSES);
    expect(parseClassList('').mask).to.equal(0);
  });

  it('reads an EventMask like strings_to_mask: number, on/off words, or a class list', () => {
    expect(parseEventMask('')).to.equal(undefined);
    expect(parseEventMask('on')).to.equal(ALL_CLASSES);
    expect(parseEventMask('YES')).to.equal(ALL_CLASSES);
    expect(parseEventMask('off')).to.equal(0);
    expect(parseEventMask('false')).to.equal(0);
    // Digits are a mask, even 1 and 0 (which ast_true/ast_false would also accept).
    expect(parseEventMask('1')).to.equal(AMI_CLASSES.system);
    expect(parseEventMask('0')).to.equal(0);
    expect(parseEventMask('514')).to.equal(AMI_CLASSES.call | AMI_CLASSES.reporting);
    expect(parseEventMask('call,system')).to.equal(AMI_CLASSES.call | AMI_CLASSES.system);
    expect(parseEventMask('nonsense')).to.equal(0);
  });

  it('names classes like authority_to_str, `all` included', () => {
    expect(classNames(AMI_CLASSES.call)).to.equal('call,all');
    expect(classNames(AMI_CLASSES.call | AMI_CLASSES.reporting)).to.equal('call,reporting,all');
    expect(classNames(AMI_CLASSES.system)).to.equal('system,all');
    expect(classNames(0)).to.equal('<none>');
  });
});
