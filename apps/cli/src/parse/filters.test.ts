import { describe, expect, it } from 'vitest';
import { groupFilters, splitFilter } from './filters.js';

describe('--filter key=value', () => {
  it('splits at the first =, keeping later ones in the value', () => {
    expect(splitFilter('label=a=b')).toEqual(['label', 'a=b']);
    expect(splitFilter('name=')).toEqual(['name', '']);
  });

  it('groups values by key in the order given', () => {
    expect(groupFilters(['status=exited', 'label=x', 'status=created'])).toEqual({
      status: ['exited', 'created'],
      label: ['x'],
    });
    expect(groupFilters([])).toEqual({});
  });

  it('refuses a filter with no key, naming it (exit 125 through INVALID_FILTER)', () => {
    for (const bad of ['nokey', '=v', ''])
      expect(() => splitFilter(bad)).toThrow(
        expect.objectContaining({
          code: 'INVALID_FILTER',
          message: 'bad format of filter (expected name=value)',
          input: { field: bad },
        }),
      );
  });
});
