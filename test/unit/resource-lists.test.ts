// pjsip.conf type=resource_list sections → lists: items repeated or comma-separated, nested lists expanded, loops and
// unusable values refused with file:line.
import { expect } from 'chai';
import { resourceListsOf } from '../../lib/lists/resource-lists.js';
import { parsePjsipSections, readPjsipSections } from '../../lib/security/pjsip-sections.js';

function lists(text: string) {
  return resourceListsOf(parsePjsipSections(text, 'pjsip.conf', () => ''));
}

describe('lists/resource lists from pjsip.conf', () => {
  it('reads items repeated and comma-separated, expands nested lists once, and the options', () => {
    const read = resourceListsOf(readPjsipSections('fixtures/lists/pjsip.conf'));
    expect(read.get('sales')).to.deep.include({ event: 'presence', members: ['6002', '2000', '7000', '9999'], fullState: false, batchMs: 0 });
    const more = lists('[a]\ntype=resource_list\nevent=dialog\nlist_item=1, 2,b\nfull_state=yes\nnotification_batch_interval=500\n[b]\ntype=resource_list\nevent=dialog\nlist_item=2,3\n');
    expect(more.get('a')).to.deep.include({ event: 'dialog', members: ['1', '2', '3'], fullState: true, batchMs: 500, line: 1 });
  });

  it('refuses a loop at load, naming the line that closes it and the path', () => {
    expect(() => resourceListsOf(readPjsipSections('fixtures/lists/loop.conf'))).to.throw('fixtures/lists/loop.conf:14: resource list loop: a → b → c → a');
    expect(() => lists('[self]\ntype=resource_list\nevent=presence\nlist_item=6002\nlist_item=self\n')).to.throw('pjsip.conf:5: resource list loop: self → self');
  });

  it('refuses lists it cannot serve, with file:line', () => {
    expect(() => lists('[a]\ntype=resource_list\nlist_item=1\n')).to.throw('pjsip.conf:1: resource list [a] has no event=');
    expect(() => lists('[a]\ntype=resource_list\nevent=message-summary\nlist_item=1\n')).to.throw("pjsip.conf:3: resource list [a]: event 'message-summary' is not presence or dialog");
    expect(() => lists('[a]\ntype=resource_list\nevent=presence\n')).to.throw('has no list_item');
    expect(() => lists('[a]\ntype=resource_list\nevent=presence\nlist_item=1\nfull_state=maybe\n')).to.throw("pjsip.conf:5: full_state: expected yes or no, not 'maybe'");
    expect(() => lists('[a]\ntype=resource_list\nevent=presence\nlist_item=1\nnotification_batch_interval=soon\n')).to.throw('pjsip.conf:5: notification_batch_interval: expected milliseconds');
  });

  it('ignores sections of other types', () => {
    expect(lists('[6001]\ntype=endpoint\ncontext=default\n').size).to.equal(0);
  });
});
