import path from 'node:path';
import type { RunFacts } from '../domain/run';
import { writeFileAtomic } from '../artifacts';
import { loadReportData, type ReportData } from './data';
import { renderReportHtml } from './html';
import { renderReportMarkdown } from './markdown';

export { loadReportData, readTrainingMetrics, selectExamples, DEFAULT_EXAMPLE_CAP, type ReportData, type TrainingMetricsRow } from './data';
export { renderReportHtml } from './html';
export { renderReportMarkdown } from './markdown';
export { lossChartSvg, ciChartSvg } from './svg';
export { escapeHtml } from './format';

export interface WrittenReport {
  html: string;
  markdown: string;
  /** Absent when the caller only re-rendered the report (run.json was read, not written). */
  runJson: string | null;
}

/**
 * Renders report.md and report.html into `outDir` from run facts and the run folder's
 * metrics.jsonl and results.jsonl; with `writeRunJson`, writes run.json there first.
 */
export async function writeReportFiles(options: {
  facts: RunFacts;
  runDir: string;
  outDir?: string;
  writeRunJson?: boolean;
  exampleCap?: number;
  /** Called after each file is written. */
  onProgress?: (progress: { filesWritten: number }) => void;
}): Promise<WrittenReport & { data: ReportData }> {
  const outDir = options.outDir ?? options.runDir;
  let filesWritten = 0;
  const written = () => options.onProgress?.({ filesWritten: ++filesWritten });
  let runJson: string | null = null;
  if (options.writeRunJson) {
    runJson = path.join(outDir, 'run.json');
    await writeFileAtomic(runJson, `${JSON.stringify(options.facts, null, 2)}\n`);
    written();
  }
  const data = await loadReportData(options.facts, options.runDir, { exampleCap: options.exampleCap });
  const markdown = path.join(outDir, 'report.md');
  const html = path.join(outDir, 'report.html');
  await writeFileAtomic(markdown, renderReportMarkdown(data));
  written();
  await writeFileAtomic(html, renderReportHtml(data));
  written();
  return { html, markdown, runJson, data };
}
