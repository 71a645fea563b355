import { Command } from 'commander';
import { addCommonFlags, addOptionFlags } from '../config/command-line.js';
import type { ControlRequest } from '../control/control-protocol.js';
import { addJsonFlag, runControl } from './run-control.js';
import type { ChangeResult } from '../control/commands.js';
import {
  formatChange, formatHints, formatMatchingHints, formatPresenceList, formatPublications, formatReload, formatRemoved, formatStats, formatSubscriptions,
  type HintRow, type PresenceListRow, type PublicationRow, type ReloadPart, type StatsRow, type SubscriptionRow,
} from '../control/format.js';

function run(request: ControlRequest, print: (result: never) => string): Promise<void> {
  return runControl(program, request, print);
}

const program = addJsonFlag(addOptionFlags(
  addCommonFlags(new Command('presencestate').description('Change and list CustomPresence states of a running presenced, like Asterisk\'s "presencestate" CLI')),
  ['dataDir'],
));

program
  .command('change')
  .description('set a state: change CustomPresence:6002 away,at home,Sick with the flu  (options: e = base64 subtype/message)')
  .argument('<entity>', 'CustomPresence:<name>')
  .argument('<state>', 'state[,subtype[,message[,options]]] with state one of not_set unavailable available away xa chat dnd')
  .action((entity: string, value: string) =>
    run({ command: 'change', entity, value }, (result: ChangeResult) => formatChange(result.name, result.stateText)),
  );
program
  .command('list')
  .description('list the CustomPresence states in effect and their source: the CLI/AMI setting or a phone\'s PUBLISH')
  .action(() => run({ command: 'list' }, (rows: PresenceListRow[]) => formatPresenceList(rows)));
program
  .command('hints')
  .description('list the hints with their state and watchers, like "core show hints"; with EXTEN, like "core show hint EXTEN"')
  .argument('[exten]', 'EXTEN or EXTEN@CONTEXT: the hints starting with EXTEN, else the one a SUBSCRIBE to EXTEN gets')
  .action((exten: string | undefined) =>
    run({ command: 'hints', exten }, (rows: HintRow[]) => (exten === undefined ? formatHints(rows) : formatMatchingHints(rows, exten))));
program
  .command('subscriptions')
  .description('list the active subscriptions (ID, resource, event, watcher, user agent, transport, seconds left)')
  .option('--resource <exten>', 'only those to EXTEN or EXTEN@CONTEXT')
  .action((options: { resource?: string }) =>
    run({ command: 'subscriptions', resource: options.resource }, (rows: SubscriptionRow[]) => formatSubscriptions(rows)));
program
  .command('subscription')
  .description('act on one subscription')
  .command('kick')
  .description('end a subscription with a final NOTIFY (terminated;reason=deactivated: the phone may subscribe again)')
  .argument('<id>', 'the ID that "subscriptions" shows')
  .action((id: string) =>
    run({ command: 'subscription-kick', id }, (row: SubscriptionRow) => formatRemoved('Ended subscription', row.id, `${row.watcher} to ${row.resource}`)));
program
  .command('publications')
  .description('list the live PUBLISHed states (entity-tag, entity, state, whether in effect, publisher, seconds left)')
  .action(() => run({ command: 'publications' }, (rows: PublicationRow[]) => formatPublications(rows)));
program
  .command('publication')
  .description('act on one publication')
  .command('remove')
  .description('remove a publication, as if its phone had un-published (its next refresh gets 412 and publishes anew)')
  .argument('<etag>', 'the entity-tag that "publications" shows')
  .action((etag: string) =>
    run({ command: 'publication-remove', etag }, (row: PublicationRow) => formatRemoved('Removed publication', row.etag, row.entity)));
program
  .command('reload')
  .description('re-read the dialplan, pjsip.conf and the AMI users, like SIGHUP, and print what each gave')
  .action(() => run({ command: 'reload' }, (parts: ReloadPart[]) => formatReload(parts)));
program
  .command('stats')
  .description('show counts (hints, subscriptions, states) and the daemon\'s memory')
  .action(() => run({ command: 'stats' }, (rows: StatsRow[]) => formatStats(rows)));

await program.parseAsync();
