// virtio-fs: a host folder shared with the guest through FUSE over virtio (VirtIO 1.2 §5.11).
// The device model and its server (worker side), and the pure parts the debugger and the
// extension host use: the chain decoder, the notify filters and condition fields, the state reader.

export { VirtioFs, DEFAULT_TAG, type VirtioFsOptions, type PollClock } from './device';
export { FuseServer, DEFAULTS as FUSE_SERVER_DEFAULTS, type FuseServerOptions } from './server';
export { describeFuseChain, FS_NOTIFY_FILTERS, FS_CONDITION_FIELDS, MAX_REQUEST_QUEUES } from './decode';
export { readFsState, readFsSnapshot, type FsStateNode, type FsStateSnapshot } from './state';
export { VIRTIO_ID_FS } from './abi';
