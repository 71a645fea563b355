import { Command } from 'commander';
import { ControlUnavailableError, controlRequest } from '../control/control-client.js';
import type { ControlRequest } from '../control/control-protocol.js';
import type { ChangeResult } from '../control/commands.js';
import { formatChange, formatHints, formatPresenceList, formatStats, formatSubscriptions, type HintRow, type PresenceListRow, type StatsRow, type SubscriptionRow } from '../control/format.js';

/** Runs one request against the daemon and prints its answer, or says why not and exits non-zero. */
async function run(request: ControlRequest, print: (result: never) => string): Promise<void> {
  const dataDir = program.opts<{ data: string }>().data;
  try {
    const response = await controlRequest(dataDir, request);
    if (!response.ok) {
      process.stderr.write(`${response.error}\n`);
      process.exitCode = 1;
      return;
    }
    const text = print(response.result as never);
    process.stdout.write(text.endsWith('\n') ? text : text + '\n');
  } catch (error) {
    if (!(error instanceof ControlUnavailableError)) throw error;
    process.stderr.write(`presencestate: ${error.message}\n`);
    process.exitCode = 1;
  }
}

const program = new Command('presencestate')
  .description('Change and list CustomPresence states of a running presenced, like Asterisk\'s "presencestate" CLI')
  .option('--data <dir>', "the daemon's state directory", './presenced-data');

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
