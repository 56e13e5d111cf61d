import { writeReport } from '../core/report/index.js';

export interface ReportCommandOptions {
  top: number;
}

/** `pure report <run>`: a static HTML report of a finished run under `<run>/report/`. */
export async function reportCommand(run: string, options: ReportCommandOptions): Promise<void> {
  const result = await writeReport(run, { top: options.top });
  for (const layer of result.layers) {
    process.stderr.write(
      `  ${layer.layer}: ${layer.shown} of ${layer.neurons} neurons shown in ${layer.page}\n`,
    );
  }
  if (result.failedImages > 0) {
    process.stderr.write(`  ${result.failedImages} images could not be read (shown as grey boxes)\n`);
  }
  process.stdout.write(`${result.indexLocation}\n`);
}
