/** The scenarios by name (one file each). */
import { bestAvailableRush } from './best-available-rush';
import { hotSeat } from './hot-seat';
import { rush } from './rush';
import { seedReplay } from './seed-replay';
import { sellOut } from './sell-out';
import { spread } from './spread';
import type { AnyScenario } from './types';

export const scenarios: Record<string, AnyScenario> = {
  [hotSeat.name]: hotSeat as AnyScenario,
  [sellOut.name]: sellOut as AnyScenario,
  [seedReplay.name]: seedReplay as AnyScenario,
  [spread.name]: spread as AnyScenario,
  [rush.name]: rush as AnyScenario,
  [bestAvailableRush.name]: bestAvailableRush as AnyScenario,
};

export function findScenario(name: string): AnyScenario {
  const scenario = scenarios[name];
  if (!scenario) throw new Error(`unknown scenario "${name}" (known: ${Object.keys(scenarios).join(', ')})`);
  return scenario;
}
