// The L2 tier's breaker is the service kit's (one breaker implementation for every dependency).
export {
  breakerStateValue,
  createBreaker,
  type BreakerOptions,
  type BreakerState,
  type CircuitBreaker,
} from '@eta/service-kit/breaker';
