import { realpathSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { cliConfig } from './context';
import { followRun, formatResult } from './progress';

export const SAMPLE_DATASET = fileURLToPath(new URL('../../data/sample/support-conversations.jsonl', import.meta.url));
export const DEMO_MODEL = 'gpt-4o-mini-2024-07-18';

export function register(program: Command): void {
  program
    .command('demo')
    .description('run the whole pipeline on the sample dataset against a throwaway local stack, then clean up')
    .option('--keep', 'keep Temporal (and its UI) running after the summary, until Ctrl-C')
    .action(async (o: { keep?: boolean }) => {
      const started = Date.now();
      const config = await cliConfig();
      const [{ createLogger }, { startLocalStack }, { startPipeline, uiLink }, { progressQuery }] = await Promise.all([
        import('../log'),
        import('./local-stack'),
        import('../starter'),
        import('../messages'),
      ]);
      // The demo talks to a person: progress lines and the summary, not every activity's log line.
      const logger = createLogger(config.logLevel ?? 'warn');
      const backendState = await mkdtemp(path.join(os.tmpdir(), 'tuneflow-demo-backend-'));
      console.error('Starting a local Temporal dev server, the local OpenAI-compatible backend and a worker…');
      const stack = await startLocalStack({
        // The sample lives beside the code, which need not be under the current directory.
        config: config.dataRoots.length > 0 ? config : { ...config, dataRoots: [realpathSync(process.cwd()), realpathSync(path.dirname(SAMPLE_DATASET))] },
        logger,
        worker: true,
        taskQueue: 'tuneflow-demo',
        server: { say: (m) => console.error(m) },
        backend: { port: 0, stateDir: backendState },
      });
      try {
        console.error(`Temporal UI (while the demo runs): ${stack.server.uiUrl}`);
        const handle = await startPipeline(stack.client, stack.config, {
          datasetPath: SAMPLE_DATASET,
          model: DEMO_MODEL,
          suffix: 'support-demo',
          pollIntervalSeconds: 1,
        });
        const link = uiLink(stack.server.uiUrl, stack.config.temporal.namespace, handle.workflowId);
        console.error(`Run ${handle.workflowId} started: ${link}`);
        const result = await followRun(handle, progressQuery);
        console.log(formatResult(result, o.keep ? link : `${link} (closes with the demo; \`npm run demo -- --keep\` keeps it open)`));
        console.log(`\nDemo wall time: ${((Date.now() - started) / 1000).toFixed(1)} s`);
        if (o.keep) {
          console.log('Keeping Temporal and its UI up; Ctrl-C to stop.');
          await new Promise<void>((resolve) => {
            process.once('SIGINT', resolve);
            process.once('SIGTERM', resolve);
          });
        }
      } finally {
        await stack.stop();
        await rm(backendState, { recursive: true, force: true });
      }
    });
}
