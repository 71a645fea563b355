import { Command } from 'commander';
import { addCommonFlags, addOptionFlags } from '../config/command-line.js';
import type { ControlRequest } from '../control/control-protocol.js';
import { runControl } from './run-control.js';
import type { ChangeResult } from '../control/commands.js';
import { formatChange, formatHints, formatPresenceList, formatStats, formatSubscriptions, type HintRow, type PresenceListRow, type StatsRow, type SubscriptionRow } from '../control/format.js';

function run(request: ControlRequest, print: (result: never) => string): Promise<void> {
  return runControl(program, request, print);
}

const program = addOptionFlags(
  addCommonFlags(new Command('presencestate').description('Change and list CustomPresence states of a running presenced, like Asterisk\'s "presencestate" CLI')),
  ['dataDir'],
);

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
  .description('list the stored CustomPresence states')
  .action(() => run({ command: 'list' }, (rows: PresenceListRow[]) => formatPresenceList(rows)));
program
  .command('hints')
  .description('list the hints with their state and watchers, like "core show hints"')
  .action(() => run({ command: 'hints' }, (rows: HintRow[]) => formatHints(rows)));
program
  .command('subscriptions')
  .description('list the active subscriptions')
  .action(() => run({ command: 'subscriptions' }, (rows: SubscriptionRow[]) => formatSubscriptions(rows)));

program
  .command('stats')
  .description('show counts (hints, subscriptions, states) and the daemon\'s memory')
  .action(() => run({ command: 'stats' }, (rows: StatsRow[]) => formatStats(rows)));

await program.parseAsync();
