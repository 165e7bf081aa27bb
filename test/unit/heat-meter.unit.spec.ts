import { HeatMeter } from '../../src/actors/heat-meter';

describe('HeatMeter (messages per second lately)', () => {
  it('when messages arrive at a steady rate, then it converges to that rate', () => {
    const meter = new HeatMeter(10_000);
    let now = 0;
    for (let i = 0; i < 50 * 60; i++) meter.record((now += 20)); // 50 a second for a minute
    expect(meter.perSecond(now)).toBeCloseTo(50, 0);
  });

  it('when messages stop, then the heat fades with the time constant, and a burst shows at once', () => {
    const meter = new HeatMeter(10_000);
    let now = 0;
    for (let i = 0; i < 6_000; i++) meter.record((now += 10)); // 100 a second
    const hot = meter.perSecond(now);
    expect(meter.perSecond(now + 10_000) / hot).toBeCloseTo(Math.exp(-1), 3);
    expect(meter.perSecond(now + 120_000)).toBeLessThan(0.001);
    const cold = new HeatMeter(10_000);
    for (let i = 0; i < 100; i++) cold.record(1_000); // 100 messages in one instant
    expect(cold.perSecond(1_000)).toBeCloseTo(10, 5);
  });
});
