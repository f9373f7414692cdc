// Errors a person fixes before the machine can use its network: reported with the message alone.
export class NetBackendError extends Error {
  override name = 'NetBackendError';
}
