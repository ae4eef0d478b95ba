/** Learning-rate schedules: a pure function of the step, so a resumed run gets the same rates. */
export type Schedule =
  | { type: 'constant' }
  | { type: 'step'; every: number; gamma: number }
  | { type: 'cosine'; totalSteps: number; minLr?: number }
  | { type: 'warmup-cosine'; warmupSteps: number; totalSteps: number; minLr?: number };

export function lrAt(base: number, schedule: Schedule, step: number): number {
  switch (schedule.type) {
    case 'constant':
      return base;
    case 'step':
      return base * schedule.gamma ** Math.floor(step / schedule.every);
    case 'cosine':
      return cosine(base, schedule.minLr ?? 0, Math.min(1, step / schedule.totalSteps));
    case 'warmup-cosine':
      if (step < schedule.warmupSteps) return (base * (step + 1)) / schedule.warmupSteps;
      return cosine(
        base,
        schedule.minLr ?? 0,
        Math.min(1, (step - schedule.warmupSteps) / Math.max(1, schedule.totalSteps - schedule.warmupSteps)),
      );
  }
}

function cosine(base: number, min: number, progress: number): number {
  return min + 0.5 * (base - min) * (1 + Math.cos(Math.PI * progress));
}
