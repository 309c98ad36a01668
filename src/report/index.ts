import path from 'node:path';
import type { RunFacts } from '../domain/run';
import { writeFileAtomic } from '../artifacts';
import { RUN_FILES, runObjectKey } from '../store/keys';
import type { ArtifactStore } from '../store/types';
import { loadReportData, type ReportData } from './data';
import { renderReportHtml } from './html';
import { renderReportMarkdown } from './markdown';

export { loadReportData, openRunObject, readTrainingMetrics, selectExamples, DEFAULT_EXAMPLE_CAP, type ReportData, type TrainingMetricsRow } from './data';
export { renderReportHtml } from './html';
export { renderReportMarkdown } from './markdown';
export { lossChartSvg, ciChartSvg } from './svg';
export { escapeHtml } from './format';

/** Where each file went, for people: paths, or `s3://` URIs when written to a bucket store. */
export interface WrittenReport {
  html: string;
  markdown: string;
  /** Absent when the caller only re-rendered the report (run.json was read, not written). */
  runJson: string | null;
}

/**
 * Renders report.md and report.html from run facts and the run's metrics.jsonl and results.jsonl in
 * the store, into the run's key in the store (or a local `outDir`); with `writeRunJson`, writes
 * run.json there first.
 */
export async function writeReportFiles(options: {
  facts: RunFacts;
  store: ArtifactStore;
  runKey: string;
  /** A local folder to write into instead of the store. */
  outDir?: string;
  writeRunJson?: boolean;
  exampleCap?: number;
  /** Called after each file is written. */
  onProgress?: (progress: { filesWritten: number }) => void;
}): Promise<WrittenReport & { data: ReportData }> {
  const { store, runKey, outDir } = options;
  const put = async (name: string, text: string): Promise<string> => {
    if (outDir !== undefined) {
      const file = path.join(outDir, name);
      await writeFileAtomic(file, text);
      return file;
    }
    const key = runObjectKey(runKey, name);
    await store.put(key, text);
    return store.url(key);
  };
  let filesWritten = 0;
  const written = () => options.onProgress?.({ filesWritten: ++filesWritten });
  let runJson: string | null = null;
  if (options.writeRunJson) {
    runJson = await put(RUN_FILES.runJson, `${JSON.stringify(options.facts, null, 2)}\n`);
    written();
  }
  const data = await loadReportData(options.facts, store, runKey, { exampleCap: options.exampleCap });
  const markdown = await put(RUN_FILES.reportMarkdown, renderReportMarkdown(data));
  written();
  const html = await put(RUN_FILES.reportHtml, renderReportHtml(data));
  written();
  return { html, markdown, runJson, data };
}
