/** A failed aria2 call: names the method, keeps aria2's error code when it gave one. */
export class Aria2Error extends Error {
  constructor(
    readonly method: string,
    readonly reason: string,
    readonly code?: number,
  ) {
    super(`aria2 ${method} failed: ${reason}`);
    this.name = 'Aria2Error';
  }
}
