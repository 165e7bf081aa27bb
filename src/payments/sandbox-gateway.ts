/**
 * The built-in gateway used when PAYMENT_GATEWAY_URL is unset: it approves every charge. It keeps
 * nothing: a lookup says "never received", and the reconciler's charge again with the same key
 * gets the same approval (the reference is derived from the key), as a real gateway would answer.
 */
import { createHash } from 'node:crypto';
import type { GatewayChargeRequest, GatewayDecision, PaymentGateway } from './payment-gateway';

export class SandboxGateway implements PaymentGateway {
  async charge(request: GatewayChargeRequest): Promise<GatewayDecision> {
    const digest = createHash('sha256').update(request.chargeId).digest('hex');
    return { status: 'APPROVED', gatewayRef: `sandbox_${digest.slice(0, 24)}` };
  }

  async lookup(): Promise<GatewayDecision | undefined> {
    return undefined;
  }

  async cancel(): Promise<void> {}
}
