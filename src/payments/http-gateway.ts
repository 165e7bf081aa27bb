/**
 * The HTTP adapter of the card gateway (docs/payment-gateway.md). One call is one attempt: it
 * turns every answer into a decision or into one of the two failures the policies tell apart —
 * "nothing was applied" (safe to report as unavailable) and "outcome unknown" (must be
 * reconciled). Timeouts, retries and the breaker live in guarded-gateway.ts.
 */
import {
  GatewayOutcomeUnknownError,
  GatewayUnavailableError,
  type GatewayChargeRequest,
  type GatewayDecision,
  type PaymentGateway,
} from './payment-gateway';

interface WireCharge {
  id: string;
  status: 'APPROVED' | 'DECLINED' | 'CANCELLED';
  declineReason?: string;
}

/** Errors whose request never reached a gateway process: nothing can have been applied. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

export class HttpGateway implements PaymentGateway {
  private readonly baseUrl: string;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  async charge(request: GatewayChargeRequest, signal?: AbortSignal): Promise<GatewayDecision> {
    const response = await this.send(
      'POST',
      '/v1/charges',
      { amount: request.amount, currency: 'KRW', reference: request.userId },
      signal,
      { 'idempotency-key': request.chargeId },
    );
    return toDecision(await this.expectCharge(response));
  }

  async lookup(chargeId: string, signal?: AbortSignal): Promise<GatewayDecision | undefined> {
    const response = await this.send('GET', `/v1/charges/by-key/${encodeURIComponent(chargeId)}`, undefined, signal);
    if (response.status === 404) {
      await response.body?.cancel();
      return undefined;
    }
    return toDecision(await this.expectCharge(response));
  }

  async cancel(gatewayRef: string, signal?: AbortSignal): Promise<void> {
    const response = await this.send('POST', `/v1/charges/${encodeURIComponent(gatewayRef)}/cancel`, {}, signal);
    await this.expectCharge(response);
  }

  private async send(
    method: string,
    path: string,
    body: unknown,
    signal: AbortSignal | undefined,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    try {
      return await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: signal ?? null,
      });
    } catch (error) {
      const code = (error as { cause?: { code?: unknown } }).cause?.code;
      if (typeof code === 'string' && NOT_SENT.has(code)) {
        throw new GatewayUnavailableError(`payment gateway unreachable (${code})`);
      }
      throw new GatewayOutcomeUnknownError(`payment gateway call failed: ${(error as Error).message}`);
    }
  }

  private async expectCharge(response: Response): Promise<WireCharge> {
    const text = await response.text().catch(() => {
      throw new GatewayOutcomeUnknownError('payment gateway response cut off');
    });
    if (response.status === 503 || response.status === 429) {
      // The gateway refused before processing (outage, overload): nothing was charged.
      const retryAfter = Number(response.headers.get('retry-after'));
      throw new GatewayUnavailableError(
        `payment gateway answered ${response.status}`,
        Number.isInteger(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
      );
    }
    if (response.status !== 200) throw new GatewayOutcomeUnknownError(`payment gateway answered ${response.status}: ${text.slice(0, 200)}`);
    let charge: Partial<WireCharge>;
    try {
      charge = JSON.parse(text) as Partial<WireCharge>;
    } catch {
      throw new GatewayOutcomeUnknownError('payment gateway answered with a body that is not JSON');
    }
    if (typeof charge.id !== 'string' || !['APPROVED', 'DECLINED', 'CANCELLED'].includes(String(charge.status))) {
      throw new GatewayOutcomeUnknownError('payment gateway answered with an unexpected charge');
    }
    return charge as WireCharge;
  }
}

/** A cancelled charge took no money: for the balance it is as good as declined. */
function toDecision(charge: WireCharge): GatewayDecision {
  if (charge.status === 'APPROVED') return { status: 'APPROVED', gatewayRef: charge.id };
  return { status: 'DECLINED', gatewayRef: charge.id, reason: charge.declineReason ?? charge.status.toLowerCase() };
}
