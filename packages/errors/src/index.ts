export type { GraftErrorCode, GraftErrorDetails } from './graftError';
export { GraftError, isGraftError } from './graftError';
