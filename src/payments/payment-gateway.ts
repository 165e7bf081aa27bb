/**
 * The card gateway that money comes in through (wire protocol: docs/payment-gateway.md). Every
 * charge carries an idempotency key — our charge id — so asking again, after a timeout or a
 * crash, never takes the money twice: the gateway answers with the charge it already made.
 */
export interface GatewayChargeRequest {
  /** Our charge id; the gateway's idempotency key. */
  chargeId: string;
  userId: string;
  amount: number;
}

export type GatewayDecision =
  | { status: 'APPROVED'; gatewayRef: string }
  | { status: 'DECLINED'; gatewayRef: string; reason: string };

export interface PaymentGateway {
  charge(request: GatewayChargeRequest, signal?: AbortSignal): Promise<GatewayDecision>;
  /** The decision on an earlier charge with this key; undefined when the gateway never received it. */
  lookup(chargeId: string, signal?: AbortSignal): Promise<GatewayDecision | undefined>;
  /** Voids an approved charge (a refund before settlement). */
  cancel(gatewayRef: string, signal?: AbortSignal): Promise<void>;
}

/** Nothing was applied: the gateway refused before processing, or was not called at all. */
export class GatewayUnavailableError extends Error {
  constructor(
    message: string,
    readonly retryAfterSeconds = 5,
  ) {
    super(message);
  }
}

/** The call may have been applied or not (a timeout, a 5xx, a connection lost mid-request). */
export class GatewayOutcomeUnknownError extends Error {}
