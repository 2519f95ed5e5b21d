// node-gyp-build ships no types: what kernel/native.ts calls of it.
declare module 'node-gyp-build' {
  const load: {
    /** The path of the build or prebuild that fits this process; throws when there is none. */
    path(dir: string): string;
  };
  export default load;
}
