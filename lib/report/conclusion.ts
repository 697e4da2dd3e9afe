// A notebook's conclusion, computed: the walkthrough's lesson, and whether this run shows it, read
// from the reading that tests it (a comparison of two runs, or a result against chance). A quick
// run on generated data may not show the lesson; then the conclusion says so, and which of the
// run's differences from the walkthrough stand between them.
import { describeAs, showMarkdown } from '../display';
import type { Reading } from '../evaluate/readings';
import type { RunPlan } from './disclosure';

export type LessonOutcome = 'shown' | 'not shown' | 'contradicted';

/** What a reading's verdict says about a lesson that predicts "better" / "above chance". */
export function lessonOutcome(verdict: string): LessonOutcome {
  if (/^(better|far above chance|above chance)$/.test(verdict)) return 'shown';
  if (/^(worse|below chance)$/.test(verdict)) return 'contradicted';
  return 'not shown';
}

export interface ConcludeOptions {
  /** The reading that tests the lesson: readComparison(…) or readResult(…). */
  evidence: Reading;
  /** Other readings whose sentences belong in the conclusion (e.g. the test-set comparison). */
  also?: Reading[];
  show?: boolean;
}

export interface Conclusion {
  outcome: LessonOutcome;
  text: string;
}

/**
 * The conclusion of a walkthrough notebook: `conclude(plan, { evidence })`; or of a notebook with a
 * lesson of its own (notebook 04): `conclude({ lesson }, { evidence })`, with no setup to compare.
 */
export function conclude(plan: RunPlan | { lesson: string }, opts: ConcludeOptions): Conclusion {
  const outcome = lessonOutcome(opts.evidence.verdict);
  const lesson =
    'walkthrough' in plan
      ? `The walkthrough's lesson: ${plan.walkthrough.lesson}.`
      : `What this notebook sets out to show: ${plan.lesson}.`;
  const verdict =
    outcome === 'shown'
      ? 'This run shows it.'
      : outcome === 'contradicted'
        ? 'This run shows the opposite.'
        : 'This run does not show it.';
  const evidence = [opts.evidence, ...(opts.also ?? [])].map((r) => r.text).join(' ');
  const major = 'walkthrough' in plan ? plan.differences.filter((d) => d.major) : [];
  const setup = !('walkthrough' in plan)
    ? ''
    : major.length
      ? ` Its setup differs from the walkthrough's in ${major.length} way${major.length > 1 ? 's' : ''} that bear${major.length > 1 ? '' : 's'} on accuracy (${major.map((d) => d.setting).join(', ')}; the table at the top), so its numbers are its own, not the walkthrough's.`
      : ' Its setup is the walkthrough’s.';
  const text = `**Conclusion.** ${lesson} ${verdict} ${evidence}${setup}`;
  const shown = opts.show !== false;
  if (shown) showMarkdown(text);
  return describeAs({ outcome, text }, (c) => c.text, { shown });
}
