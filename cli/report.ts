import type { CompositeName } from '../core/adapters/onnxruntime/attribution.js';
import { writeReport } from '../report/index.js';

export interface ReportCommandOptions {
  top: number;
  crops: boolean;
  composite: CompositeName;
}

/** `pure report <run>`: a static HTML report of a finished run under `<run>/report/`. */
export async function reportCommand(run: string, options: ReportCommandOptions): Promise<void> {
  if (options.crops)
    process.stderr.write(`  drawing heatmap crops (${options.composite}) with the run's model\n`);
  let lastLine = 0;
  const result = await writeReport(run, {
    top: options.top,
    crops: options.crops,
    composite: options.composite,
    // One line every few seconds (and the last): crops at 224 pixels take minutes for a big report.
    onCropProgress: (done, total) => {
      const now = Date.now();
      if (done === total || now - lastLine > 5000) {
        process.stderr.write(`  crops ${done}/${total}\n`);
        lastLine = now;
      }
    },
  });
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
