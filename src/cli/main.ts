import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { UsageError } from './context';
import { register as approve } from './approve';
import { register as cancel } from './cancel';
import { register as codecServer } from './codec-server';
import { register as demo } from './demo';
import { register as dev } from './dev';
import { register as line } from './line';
import { register as openaiLocal } from './openai-local';
import { register as reap } from './reap';
import { register as report } from './report';
import { register as resume } from './resume';
import { register as run } from './run';
import { register as schedule } from './schedule';
import { register as setup } from './setup';
import { register as status } from './status';
import { register as validate } from './validate';
import { register as webhooks } from './webhooks';
import { register as worker } from './worker';

/** The package's own version, one source for `--version` from the sources and from dist/. */
function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

export function buildProgram(onError: (text: string) => void = (t) => process.stderr.write(t)): Command {
  const program = new Command('tuneflow')
    .configureOutput({ writeErr: onError })
    .description('Fine-tuning of chat models as durable Temporal workflows')
    .version(packageVersion())
    .showHelpAfterError()
    .exitOverride();
  for (const registerCommand of [validate, run, status, cancel, resume, approve, schedule, line, reap, report, setup, worker, webhooks, dev, demo, openaiLocal, codecServer]) registerCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  let commanderSaidIt = false;
  const program = buildProgram((text) => {
    commanderSaidIt = true;
    process.stderr.write(text);
  });
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Flag checks inside an action throw commander's errors too, without printing them.
      if (!commanderSaidIt && err.exitCode !== 0) console.error(`tuneflow: ${err.message}`);
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    if (err instanceof UsageError) {
      console.error(`tuneflow: ${err.message}`);
      process.exitCode = 2;
      return;
    }
    console.error(`tuneflow: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
