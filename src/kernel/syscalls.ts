// The one door to the addon: every call into C goes through here, typed as native.ts declares it. The
// modules beside this one give the calls meaning (spawn.ts, sockets.ts, safeopen.ts, …); this one only
// forwards, so a reader sees in one place all that angel asks of the kernel beyond Node.
import { addon, type NativeAddon } from './native.js';

export const spawnNative: NativeAddon['spawn'] = (...args) => addon().spawn(...args);
export const watchExit: NativeAddon['watchExit'] = (...args) => addon().watchExit(...args);
export const sendSignal: NativeAddon['sendSignal'] = (...args) => addon().sendSignal(...args);
export const signalGroup: NativeAddon['signalGroup'] = (...args) => addon().signalGroup(...args);
export const getgrouplist: NativeAddon['getgrouplist'] = (...args) => addon().getgrouplist(...args);
export const setChildSubreaper: NativeAddon['setChildSubreaper'] = (...args) => addon().setChildSubreaper(...args);
export const listenInet: NativeAddon['listenInet'] = (...args) => addon().listenInet(...args);
export const listenUnix: NativeAddon['listenUnix'] = (...args) => addon().listenUnix(...args);
export const pipe: NativeAddon['pipe'] = () => addon().pipe();
export const openAt: NativeAddon['openAt'] = (...args) => addon().openAt(...args);
export const eventfd: NativeAddon['eventfd'] = () => addon().eventfd();
export const watchFd: NativeAddon['watchFd'] = (...args) => addon().watchFd(...args);
export const unwatchFd: NativeAddon['unwatchFd'] = (...args) => addon().unwatchFd(...args);
export const rlimitResources = (): NativeAddon['rlimitResources'] => addon().rlimitResources;
export const lockedProgram = (): string | null => addon().lockedProgram;
