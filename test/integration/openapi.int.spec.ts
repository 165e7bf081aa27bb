import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startTestApp, type TestApp } from '../support/test-app';

describe('the OpenAPI document', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('when the routes change, then docs/openapi.yaml must be regenerated (npm run openapi)', async () => {
    await t.app.ready();
    const committed = readFileSync(path.resolve(__dirname, '../../docs/openapi.yaml'), 'utf8');
    expect(committed).toBe(t.app.swagger({ yaml: true }));
  });

  it('when served, then it documents every endpoint of the contract', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    const paths = Object.keys(JSON.parse(response.body).paths);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/v1/admin/concerts',
        '/v1/admin/actors',
        '/v1/admin/concerts/{concertId}/queue-draw',
        '/v1/queue/tokens',
        '/v1/queue/tokens/current',
        '/v1/concerts',
        '/v1/concerts/{concertId}/schedules',
        '/v1/schedules/{scheduleId}/seats',
        '/v1/reservations',
        '/v1/reservations/{reservationId}',
        '/v1/reservations/{reservationId}/extension',
        '/v1/admin/schedules/{scheduleId}/seats/{seatNo}/history',
        '/v1/users/{userId}/reservations',
        '/v1/users/{userId}/balance',
        '/v1/users/{userId}/balance/charges',
        '/v1/payments',
        '/metrics',
        '/health/live',
        '/health/ready',
      ]),
    );
  });
});
