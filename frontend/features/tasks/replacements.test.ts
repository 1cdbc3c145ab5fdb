import { afterEach, describe, expect, it } from 'vitest';
import { clearReplacements, noteReplacement, replacementOf } from './replacements';

afterEach(() => clearReplacements());

describe('replacements', () => {
  it('names the newest task of a line of retries', () => {
    expect(replacementOf(1)).toBeNull();
    noteReplacement(1, 2);
    expect(replacementOf(1)).toBe(2);
    noteReplacement(2, 5);
    expect(replacementOf(1)).toBe(5);
    expect(replacementOf(2)).toBe(5);
    expect(replacementOf(5)).toBeNull();
  });

  it('survives a loop and ignores a task replaced by itself', () => {
    noteReplacement(7, 7);
    expect(replacementOf(7)).toBeNull();
    noteReplacement(7, 8);
    noteReplacement(8, 7);
    expect(replacementOf(7)).toBe(8);
  });
});
