export type { CodeBlock } from './codeBlocks';
export { extractCodeBlocks } from './codeBlocks';
