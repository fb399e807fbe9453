export type { BackendInfo, BackendName, InitBackendOptions } from './backend/initBackend';
export { initBackend } from './backend/initBackend';
export type { GraftErrorCode, GraftErrorDetails } from './errors';
export { GraftError, isGraftError } from './errors';
export { trainingKernelNames } from './kernels/registerTrainingKernels';
