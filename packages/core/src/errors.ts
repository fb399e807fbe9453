// GraftError lives in @graft/errors so that every package (datasets included, which must not
// depend on core) throws the one class. Core re-exports it as part of its public API.

export type { GraftErrorCode, GraftErrorDetails } from '@graft/errors';
export { GraftError, isGraftError } from '@graft/errors';
