// Do an executed notebook's computed sentences agree with its own numbers (issue 23)? A reader
// checks every sentence of a report against the figures beside it; these checks do the same for
// the disclosure, the accuracies the readings quote, the comparison and the conclusion. Each
// returns the sentences that disagree.
import type { Notebook, Output } from './report-checks';
import type { Metrics } from './lessons';

const markdownOf = (o: Output) => {
  const md = o.data?.['text/markdown'];
  return md === undefined ? undefined : [md].flat().join('');
};

/** Every Markdown output of the executed notebook, in order. */
export function markdownOutputs(nb: Notebook): string[] {
  return nb.cells
    .flatMap((c) => c.outputs ?? [])
    .map(markdownOf)
    .filter((t): t is string => t !== undefined);
}

/** The rich outputs (anything displayed, not streams) in order, as their Markdown or a mime list. */
function richOutputs(nb: Notebook): string[] {
  // After the first code cell: the import, whose output is the backend line.
  return nb.cells
    .filter((c) => c.cell_type === 'code')
    .slice(1)
    .flatMap((c) => c.outputs ?? [])
    .filter((o) => o.output_type === 'display_data' || o.output_type === 'execute_result')
    .map((o) => markdownOf(o) ?? Object.keys(o.data ?? {}).join(','));
}

const pct1 = (v: number) => (100 * v).toFixed(1);

export interface ReadingsContext {
  /** Real data (an env variable pointed at the dataset) or the generated stand-in. */
  realData: boolean;
  /** Whether the notebook follows a walkthrough (01–03) and so opens with the disclosure. */
  walkthrough: boolean;
}

export function readingProblems(nb: Notebook, metrics: Metrics, ctx: ReadingsContext): string[] {
  const problems: string[] = [];
  const mds = markdownOutputs(nb);
  const accuracies = Object.entries(metrics)
    .filter(([k, v]) => /accuracy/.test(k) && typeof v === 'number')
    .map(([, v]) => v as number);

  if (ctx.walkthrough) {
    const first = richOutputs(nb)[0] ?? '';
    if (!first.startsWith('**What this run is:**'))
      problems.push(`the first output is not the disclosure: "${first.slice(0, 80)}"`);
    const disclosure = mds.find((m) => m.startsWith('**What this run is:**')) ?? '';
    const saysReal = /\*\*Data:\*\* Real /.test(disclosure);
    if (saysReal !== ctx.realData)
      problems.push(
        `the disclosure says ${saysReal ? 'real' : 'generated'} data, the run used ${ctx.realData ? 'real' : 'generated'} data`,
      );
    const saysImagenet = /\*\*Weights:\*\* Keras' ImageNet/.test(disclosure);
    const usedImagenet = /^ImageNet/.test(String(metrics.weights ?? ''));
    if (saysImagenet !== usedImagenet)
      problems.push(
        `the disclosure says ${saysImagenet ? 'ImageNet' : 'not ImageNet'}, the model's weights were "${metrics.weights}"`,
      );
  }

  // "… accuracy is 58.1% on 258 images": each quoted accuracy is one of the run's headline numbers.
  for (const md of mds)
    for (const m of md.matchAll(/accuracy is (\d+\.\d)% on (\d+) images/g))
      if (!accuracies.some((a) => pct1(a) === m[1]))
        problems.push(
          `"${m[0]}" quotes an accuracy that is not among the run's (${accuracies.map(pct1).join(', ')})`,
        );

  // The comparison: direction and size match two of the run's accuracies.
  const comparisons = mds.filter((m) =>
    /: (a real difference at this sample size|within noise —)/.test(m),
  );
  for (const c of comparisons) {
    const m = c.match(/is (\d+\.\d) points (above|below)/);
    if (m && !accuracies.some((a) => accuracies.some((b) => (100 * (a - b)).toFixed(1) === m[1])))
      problems.push(`"${m[0]}" is no difference of two of the run's accuracies`);
    // Its verdict follows its own test: p < 0.05 (McNemar) or an interval that excludes 0.
    const p = c.match(/p = ([\d.e+-]+)\)/);
    const interval = c.match(/difference (-?[\d.]+) to (-?[\d.]+) points/);
    const real = /a real difference at this sample size/.test(c);
    const significant = p
      ? Number(p[1]) < 0.05
      : interval
        ? Number(interval[1]) > 0 || Number(interval[2]) < 0
        : undefined;
    if (significant !== undefined && significant !== real)
      problems.push(`a comparison whose verdict does not follow its test: "${c}"`);
  }

  // The conclusion follows from the reading it quotes.
  const conclusion = mds.find((m) => m.startsWith('**Conclusion.**'));
  if (ctx.walkthrough && !conclusion) problems.push('no computed conclusion');
  if (conclusion) {
    const shows = /This run shows it\./.test(conclusion);
    const opposite = /This run shows the opposite\./.test(conclusion);
    const evidence =
      conclusion.split(/This run (?:shows it|does not show it|shows the opposite)\./)[1] ?? '';
    const firstSentence = evidence.trim().split(/(?<=\.) /)[0] ?? '';
    const supports = /a real difference at this sample size/.test(firstSentence)
      ? / points above /.test(firstSentence)
      : /so this is (far )?above chance/.test(firstSentence);
    const contradicts = /a real difference at this sample size/.test(firstSentence)
      ? / points below /.test(firstSentence)
      : /below guessing/.test(firstSentence);
    if (shows !== supports || opposite !== contradicts)
      problems.push(
        `the conclusion says "${shows ? 'shows it' : opposite ? 'shows the opposite' : 'does not show it'}" but its evidence reads "${firstSentence}"`,
      );
  }
  return problems;
}
