/** The option table as command-line flags: one commander option per entry, parsed by the entry's own parser. */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { resolveOptions, type ResolvedOptions } from './locate.js';
import { describeDefault, OPTIONS, type OptionName, type OptionSpec, type OptionValues } from './options.js';
import { VERSION } from './paths.js';

const NAMES = Object.keys(OPTIONS) as OptionName[];

/** --version and --conf, which every program has. */
export function addCommonFlags(program: Command): Command {
  return program
    .version(VERSION, '--version', 'print the version and exit')
    .option('--conf <file>', 'presenced.conf to read (default: $PRESENCED_CONF, else /etc/presenced/presenced.conf when it exists)');
}

/** Adds a flag for every option. No commander defaults: a flag not given must not hide presenced.conf's value. */
export function addOptionFlags(program: Command, names: readonly OptionName[] = NAMES): Command {
  for (const name of names) {
    const spec: OptionSpec<unknown> = OPTIONS[name];
    const shown = describeDefault(spec);
    const description = shown === '' ? spec.help : `${spec.help} (default: ${shown})`;
    // A switch (no argument) is true when given.
    if (spec.arg === '') {
      program.addOption(new Option(`--${spec.flag}`, description));
      continue;
    }
    program.addOption(
      new Option(`--${spec.flag} <${spec.arg}>`, description).argParser((value: string) => {
        try {
          return spec.parse(value);
        } catch (error) {
          throw new InvalidArgumentError((error as Error).message);
        }
      }),
    );
  }
  return program;
}

/** The options after parsing `program`: its flags over presenced.conf over the defaults. Throws ConfigError. */
export function readOptions(program: Command, env: NodeJS.ProcessEnv = process.env): ResolvedOptions {
  return resolveOptions({ defaults: defaultValues(), flags: flagValues(program), confFlag: program.opts<{ conf?: string }>().conf, env });
}

/** The options given as flags, by option name (a flag given as 'off' is present with the value undefined). */
function flagValues(program: Command): Partial<OptionValues> {
  const given: Record<string, unknown> = {};
  const parsed = program.opts();
  for (const name of NAMES) {
    const attribute = new Option(`--${OPTIONS[name].flag}`).attributeName();
    if (program.getOptionValueSource(attribute) === 'cli') given[name] = parsed[attribute];
  }
  return given as Partial<OptionValues>;
}

/** Every option at its default (undefined when it has none). */
export function defaultValues(): OptionValues {
  const values: Record<string, unknown> = {};
  for (const name of NAMES) values[name] = (OPTIONS[name] as OptionSpec<unknown>).default;
  return values as OptionValues;
}
