export { GraftError, isGraftError } from './errors';
export type { GraftErrorCode, GraftErrorDetails } from './errors';
export { initBackend } from './backend/initBackend';
export type { BackendInfo, BackendName, InitBackendOptions } from './backend/initBackend';
export { trainingKernelNames } from './kernels/registerTrainingKernels';
