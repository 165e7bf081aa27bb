/** The built-in gateway used when PAYMENT_GATEWAY_URL is unset: it approves every charge. */
import { createHash } from 'node:crypto';
import type { GatewayChargeRequest, GatewayDecision, PaymentGateway } from './payment-gateway';

export class SandboxGateway implements PaymentGateway {
  private readonly approved = new Map<string, GatewayDecision>();

  async charge(request: GatewayChargeRequest): Promise<GatewayDecision> {
    // Deterministic per key: a retried charge gets the same reference, as a real gateway would.
    const digest = createHash('sha256').update(request.chargeId).digest('hex');
    const decision: GatewayDecision = { status: 'APPROVED', gatewayRef: `sandbox_${digest.slice(0, 24)}` };
    this.approved.set(request.chargeId, decision);
    return decision;
  }

  async lookup(chargeId: string): Promise<GatewayDecision | undefined> {
    return this.approved.get(chargeId);
  }

  async cancel(): Promise<void> {}
}
