/** Applies the gateway's decision to a PENDING charge: credit once, or record the decline. */
import type { ChargeRow, ChargeStore } from '../persistence/charge-store';
import type { GatewayDecision } from './payment-gateway';

export function settleCharge(charges: ChargeStore, chargeId: string, decision: GatewayDecision): Promise<ChargeRow> {
  return decision.status === 'APPROVED'
    ? charges.approve(chargeId, decision.gatewayRef)
    : charges.decline(chargeId, decision.gatewayRef, decision.reason);
}
