/** The npm `aria2` client (sonnyp/aria2.js) ships no types: what the RPC tests use of it. */
declare module 'aria2' {
  import type { EventEmitter } from 'node:events';

  interface Aria2Options {
    host: string;
    port: number;
    secure?: boolean;
    secret?: string;
    path?: string;
  }

  export default class Aria2 extends EventEmitter {
    constructor(options: Aria2Options);
    open(): Promise<unknown>;
    close(): Promise<unknown>;
    call<T = unknown>(method: string, ...params: unknown[]): Promise<T>;
    multicall<T = unknown[]>(calls: unknown[][]): Promise<T>;
    batch(calls: unknown[][]): Promise<Promise<unknown>[]>;
    listMethods(): Promise<string[]>;
    listNotifications(): Promise<string[]>;
  }
}
