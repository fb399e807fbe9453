/**
 * Decodes standard base64 into bytes with `atob`, which Node (>= 16) and every browser have,
 * so the runtime path never touches Node's `Buffer`.
 */
export function decodeBase64(base64: string): Uint8Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
