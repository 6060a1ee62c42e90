import { describe, expect, it } from 'vitest';
import { type Logger, silentLogger } from './logger.js';

describe('silentLogger', () => {
  it('implements every level and drops the lines', () => {
    const levels: Array<keyof Logger> = ['debug', 'info', 'warn', 'error'];
    for (const level of levels) expect(silentLogger[level]('msg', { digest: 'x' })).toBeUndefined();
    expect(Object.isFrozen(silentLogger)).toBe(true);
  });
});
