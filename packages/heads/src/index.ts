export { maskedBinaryCrossEntropy } from './maskedBinaryCrossEntropy';
