/** The built-in gateway used when PAYMENT_GATEWAY_URL is unset: it approves every charge. */
import { createHash } from 'node:crypto';
import type { GatewayApproval, GatewayChargeRequest, PaymentGateway } from './payment-gateway';

export class SandboxGateway implements PaymentGateway {
  async charge(request: GatewayChargeRequest): Promise<GatewayApproval> {
    // Deterministic per (user, key): a retried charge gets the same reference, as a real gateway would.
    const digest = createHash('sha256').update(`${request.userId}:${request.idempotencyKey}`).digest('hex');
    return { gatewayRef: `sandbox_${digest.slice(0, 24)}` };
  }
}
