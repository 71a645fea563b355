import { Command } from 'commander';
import { addCommonFlags, addOptionFlags } from '../config/command-line.js';
import type { ChangeResult } from '../control/commands.js';
import type { ControlRequest } from '../control/control-protocol.js';
import { formatChange, formatDeviceList, type DeviceListRow } from '../control/format.js';
import { DEVICE_STATES } from '../devices/device-state.js';
import { addJsonFlag, runControl } from './run-control.js';

function run(request: ControlRequest, print: (result: never) => string): Promise<void> {
  return runControl(program, request, print);
}

const program = addJsonFlag(addOptionFlags(
  addCommonFlags(new Command('devicestate').description('Change and list Custom: device states of a running presenced, like Asterisk\'s "devicestate" CLI')),
  ['dataDir'],
));

program
  .command('change')
  .description('set a state: change Custom:2000 INUSE')
  .argument('<device>', 'Custom:<name>')
  .argument('<state>', `one of ${DEVICE_STATES.join(' ')}`)
  .action((device: string, state: string) =>
    run({ command: 'device-change', device, state }, (result: ChangeResult) => formatChange(result.name, result.stateText)),
  );
program
  .command('list')
  .description('list the stored Custom: device states')
  .action(() => run({ command: 'device-list' }, (rows: DeviceListRow[]) => formatDeviceList(rows)));

await program.parseAsync();
