/**
 * The card gateway that money comes in through. Charges carry the client's idempotency key, so
 * a retried charge is never taken twice by the gateway.
 */
export interface GatewayChargeRequest {
  userId: string;
  amount: number;
  idempotencyKey: string;
}

export interface GatewayApproval {
  /** The gateway's reference of the approved charge. */
  gatewayRef: string;
}

export interface PaymentGateway {
  charge(request: GatewayChargeRequest): Promise<GatewayApproval>;
}

/** Raised when the gateway cannot be reached or refuses to answer; maps to 503. */
export class GatewayUnavailableError extends Error {
  constructor(
    message: string,
    readonly retryAfterSeconds = 5,
  ) {
    super(message);
  }
}
