import { describe, expect, it } from 'vitest';
import { ellipsis, renderList, renderObject, templateSource } from './formatter.js';
import { truncateId } from './units.js';

const rows = [
  {
    ID: truncateId('sha256:4a1b2c3d4e5f60718293a4b5c6d7e8f9'),
    Image: 'busybox:latest',
    Names: 'web',
    CreatedAt: 'now',
  },
  { ID: '0123456789ab', Image: 'x', Names: 'db-very-long-name', CreatedAt: 'then' },
];
const defaultFormat = 'table {{.ID}}\\t{{.Image}}\\t{{.Names}}';

describe('renderList', () => {
  it('prints the default table with an upper-case header like docker', () => {
    expect(renderList(rows, { format: '', defaultFormat, headers: { ID: 'CONTAINER ID' } })).toBe(
      'CONTAINER ID   IMAGE            NAMES\n' +
        '4a1b2c3d4e5f   busybox:latest   web\n' +
        '0123456789ab   x                db-very-long-name\n',
    );
  });

  it('derives titles from field names and keeps the header when there are no rows', () => {
    expect(renderList([], { format: 'table {{.CreatedAt}}\\t{{.Names | upper}}', defaultFormat })).toBe(
      'CREATED AT   NAMES\n',
    );
  });

  it('prints one JSON object per line for the json format', () => {
    expect(renderList(rows.slice(0, 1), { format: 'json', defaultFormat })).toBe(
      '{"CreatedAt":"now","ID":"4a1b2c3d4e5f","Image":"busybox:latest","Names":"web"}\n',
    );
  });

  it('runs a custom template once per record', () => {
    expect(renderList(rows, { format: '{{.Names}}: {{.Image}}', defaultFormat })).toBe(
      'web: busybox:latest\ndb-very-long-name: x\n',
    );
  });

  it('turns a literal \\t into a tab and trims surrounding spaces', () => {
    expect(templateSource('table  {{.A}}\\t{{.B}} ')).toBe('{{.A}}\t{{.B}}');
  });
});

describe('renderObject', () => {
  it('renders json and templates with a trailing newline', () => {
    expect(renderObject({ b: 1, a: 'x' }, 'json')).toBe('{"a":"x","b":1}\n');
    expect(renderObject({ Client: { Version: '1.0' } }, '{{.Client.Version}}')).toBe('1.0\n');
  });
});

describe('ellipsis', () => {
  it('cuts with an ellipsis', () => {
    expect(ellipsis('"sh -c sleep 1000"', 10)).toBe('"sh -c sl…');
    expect(ellipsis('short', 10)).toBe('short');
  });
});
