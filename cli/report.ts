import type { CompositeName } from '../core/adapters/onnxruntime/attribution.js';
import { writeReport } from '../report/index.js';

export interface ReportCommandOptions {
  top: number;
  crops: boolean;
  composite: CompositeName;
}

/** One line every few seconds (and the last): crops at 224 pixels and big layers take minutes. */
function progress(what: string): (done: number, total: number) => void {
  let lastLine = 0;
  return (done, total) => {
    const now = Date.now();
    if (done === total || now - lastLine > 5000) {
      process.stderr.write(`  ${what} ${done}/${total}\n`);
      lastLine = now;
    }
  };
}

/** `pure report <run>`: a static HTML report of a finished run under `<run>/report/`. */
export async function reportCommand(run: string, options: ReportCommandOptions): Promise<void> {
  if (options.crops)
    process.stderr.write(`  drawing heatmap crops (${options.composite}) with the run's model\n`);
  const result = await writeReport(run, {
    top: options.top,
    crops: options.crops,
    composite: options.composite,
    onCropProgress: progress('crops'),
    onPageProgress: progress('neuron pages'),
  });
  for (const layer of result.layers) {
    const crops = layer.heatmapped > 0 ? ` (${layer.heatmapped} with heatmap crops)` : '';
    process.stderr.write(`  ${layer.layer}: ${layer.neurons} neuron pages${crops}, index ${layer.page}\n`);
  }
  if (result.failedImages > 0) {
    process.stderr.write(`  ${result.failedImages} images could not be read (shown as grey boxes)\n`);
  }
  process.stdout.write(`${result.indexLocation}\n`);
}
