// How big the reliability suites run: small enough for CI by default, the long versions through
// `npm run test:reliability:long` (see docs/reliability.md).
const number = (name: string, fallback: number): number => {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};

export const FUZZ_RUNS = number('FUZZ_RUNS', 300);
export const CRASH_ROUNDS = number('CRASH_ROUNDS', 3);
export const SOAK_SECONDS = number('SOAK_SECONDS', 15);
export const FLOOD_CLIENTS = number('FLOOD_CLIENTS', 200);
