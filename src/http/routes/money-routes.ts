/** Balances, charges and payments: every write carries an Idempotency-Key. */
import type { FastifyInstance } from 'fastify';
import {
  BalanceResponse,
  ChargeBody,
  ChargeParams,
  ChargeResponse,
  ChargeStatusResponse,
  IdempotencyHeaders,
  PayBody,
  PaymentResponse,
  UserParams,
} from '../schemas';
import type { AppServices } from '../app-services';
import { toProblem } from '../error-handler';

type MoneyHeaders = { 'idempotency-key': string; 'queue-token'?: string };

export function moneyRoutes(app: FastifyInstance, services: AppServices): void {
  app.get<{ Params: { userId: string } }>(
    '/v1/users/:userId/balance',
    { schema: { params: UserParams, response: { 200: BalanceResponse } } },
    async (request) => services.balances.balance(request.params.userId),
  );

  app.post<{ Params: { userId: string }; Body: ChargeBody; Headers: MoneyHeaders }>(
    '/v1/users/:userId/balance/charges',
    {
      schema: {
        params: UserParams,
        headers: IdempotencyHeaders,
        body: ChargeBody,
        response: { 200: ChargeResponse, 202: ChargeResponse },
      },
    },
    async (request, reply) => {
      const result = await services.charges.charge(
        request.params.userId,
        request.body.amount,
        request.headers['idempotency-key'],
      );
      return reply.code(result.statusCode).send(result.body);
    },
  );

  app.get<{ Params: { userId: string; chargeId: string } }>(
    '/v1/users/:userId/balance/charges/:chargeId',
    { schema: { params: ChargeParams, response: { 200: ChargeStatusResponse } } },
    async (request) => services.charges.status(request.params.userId, request.params.chargeId),
  );

  app.post<{ Body: PayBody; Headers: MoneyHeaders }>(
    '/v1/payments',
    { schema: { headers: IdempotencyHeaders, body: PayBody, response: { 201: PaymentResponse } } },
    async (request, reply) => {
      const started = performance.now();
      const answered = (outcome: string, replayed = false) => services.metrics.paymentAnswered(outcome, (performance.now() - started) / 1000, replayed);
      try {
        const result = await services.payments.pay(
          request.headers['queue-token'],
          request.headers['idempotency-key'],
          request.body.reservationId,
        );
        // A replay answers what the first attempt did: 201, or that attempt's problem.
        answered(result.statusCode === 201 ? 'CONFIRMED' : ((result.body as { code?: string }).code ?? String(result.statusCode)), result.replayed);
        return reply.code(result.statusCode).send(result.body);
      } catch (error) {
        answered(toProblem(error as Error).code);
        throw error;
      }
    },
  );
}
