import { describe, expect, it } from 'vitest';
import { compileTemplate, TemplateError } from './template.js';

// Every expectation below is what Go 1.19's text/template printed for the same template and data
// (decoded from JSON, integers as int, string arrays as []string, with docker's templates.go
// functions), so these compare berth's interpreter to Go itself.
const D: Record<string, unknown> = {
  ID: 'abcdef0123456789',
  Name: 'web',
  Names: ['web', 'db'],
  Labels: { 'com.example': 'x', app: 'berth' },
  Config: { Env: ['A=1', 'B=2'], Cmd: null, Image: 'busybox', Tty: false },
  Size: 1234567,
  Ratio: 0.25,
  Big: 1000000.5,
  Count: 3,
  Zero: 0,
  Empty: '',
  EmptyList: [],
  EmptyMap: {},
  Ports: [
    { Private: 80, Public: 8080, Type: 'tcp' },
    { Private: 443, Type: 'tcp' },
  ],
  Nested: { a: { b: { c: 'deep' } } },
  Flag: true,
  Mixed: [1, 'a', true, null, 2.5],
};

const cases: Array<[string, string | { err: string }, unknown?]> = [
  ['{{.ID}}', 'abcdef0123456789'],
  ['{{.Config.Env}}', '[A=1 B=2]'],
  ['{{.Labels}}', 'map[app:berth com.example:x]'],
  ['{{index .Labels "com.example"}}', 'x'],
  [
    '{{json .}}',
    '{"Big":1000000.5,"Config":{"Cmd":null,"Env":["A=1","B=2"],"Image":"busybox","Tty":false},"Count":3,"Empty":"","EmptyList":[],"EmptyMap":{},"Flag":true,"ID":"abcdef0123456789","Labels":{"app":"berth","com.example":"x"},"Mixed":[1,"a",true,null,2.5],"Name":"web","Names":["web","db"],"Nested":{"a":{"b":{"c":"deep"}}},"Ports":[{"Private":80,"Public":8080,"Type":"tcp"},{"Private":443,"Type":"tcp"}],"Ratio":0.25,"Size":1234567,"Zero":0}',
  ],
  ['{{json .Labels}}', '{"app":"berth","com.example":"x"}'],
  ['{{.}}', 'plain', 'plain'],
  [
    '{{.}}',
    'map[Cmd:<nil> Env:[A=1 B=2] Image:busybox Tty:false]',
    { Env: ['A=1', 'B=2'], Cmd: null, Image: 'busybox', Tty: false },
  ],
  ['{{.Name | upper}}', 'WEB'],
  ['{{range .Names}}[{{.}}]{{end}}', '[web][db]'],
  ['{{range $i, $e := .Names}}{{$i}}={{$e}};{{end}}', '0=web;1=db;'],
  ['{{range .EmptyList}}x{{else}}empty{{end}}', 'empty'],
  ['{{range $k, $v := .Labels}}{{$k}}->{{$v}} {{end}}', 'app->berth com.example->x '],
  ['{{if .Flag}}yes{{else}}no{{end}}', 'yes'],
  ['{{if .Empty}}a{{else if .Count}}b{{else}}c{{end}}', 'b'],
  ['{{if .Zero}}a{{else if .Empty}}b{{else}}c{{end}}', 'c'],
  ['{{with .Config}}{{.Image}}{{end}}', 'busybox'],
  ['{{with .Missing}}x{{else}}none{{end}}', 'none'],
  ['{{$x := .Name}}{{$x}}-{{$x}}', 'web-web'],
  ['{{$x := 1}}{{$x = 2}}{{$x}}', '2'],
  ['a  {{- .Name -}}  b', 'awebb'],
  ['a\n  {{- .Name}}\n b', 'aweb\n b'],
  ['{{"str"}} {{`raw\\n`}} {{42}} {{-3}} {{1.5}} {{0x1F}} {{\'a\'}}', 'str raw\\n 42 -3 1.5 31 97'],
  ['{{split "a,b,c" ","}}', '[a b c]'],
  ['{{join .Names ", "}}', 'web, db'],
  ['{{title "hello world-foo bar_baz"}}', 'Hello World-Foo Bar_baz'],
  ['{{lower "ABC"}}', 'abc'],
  ['[{{pad .Name 2 3}}]', '[  web   ]'],
  ['[{{pad .Empty 2 3}}]', '[]'],
  ['{{truncate .ID 5}}', 'abcde'],
  ['{{truncate "ab" 5}}', 'ab'],
  ['{{len .Names}} {{len .Labels}} {{len .Name}} {{len "héllo"}}', '2 2 3 6'],
  ['{{index .Names 1}}', 'db'],
  [
    '{{index .Names 5}}',
    { err: 'template: :1:2: executing "" at <index .Names 5>: error calling index: index out of range: 5' },
  ],
  ['{{printf "%s=%d" .Name .Count}}', 'web=3'],
  ['{{printf "%5s|%-5s|" "ab" "cd"}}', '   ab|cd   |'],
  ['{{printf "%q %v %x %X %o %b" "hi" .Names 255 255 8 5}}', '"hi" [web db] ff FF 10 101'],
  [
    '{{printf "%.2f %e %g %08.3f %+d" .Ratio .Big .Big 3.14159 5}}',
    '0.25 1.000000e+06 1.0000005e+06 0003.142 +5',
  ],
  ['{{printf "%d %s" "x"}}', '%!d(string=x) %!s(MISSING)'],
  ['{{printf "%d" 1 2}}', '1%!(EXTRA int=2)'],
  ['{{printf "%T %T %T %T" .Name .Count .Ratio .Names}}', 'string int float64 []string'],
  ['{{printf "%v" .Labels}}', 'map[app:berth com.example:x]'],
  ['{{printf "%t %5.1f%%" true 99.44}}', 'true  99.4%'],
  [
    '{{eq .Name "web"}} {{eq .Count 1 2 3}} {{ne .Name "x"}} {{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1 2}}',
    'true true true true true true false',
  ],
  [
    '{{eq .Name 3}}',
    {
      err: 'template: :1:2: executing "" at <eq .Name 3>: error calling eq: incompatible types for comparison',
    },
  ],
  [
    '{{lt .Flag true}}',
    { err: 'template: :1:2: executing "" at <lt .Flag true>: error calling lt: invalid type for comparison' },
  ],
  ['{{and 1 0 2}} {{and 1 2}} {{or 0 "" "x"}} {{or 0 ""}} {{not .Flag}} {{not .Empty}}', '0 2 x  false true'],
  ['{{print "a" "b" 1 2 true "c"}}', 'ab1 2 truec'],
  ['{{println "a" 1}}', 'a 1\n'],
  ['{{.Size}} {{.Ratio}} {{.Big}} {{.Zero}}', '1234567 0.25 1.0000005e+06 0'],
  ['{{.Mixed}}', '[1 a true <nil> 2.5]'],
  ['{{.Ports}}', '[map[Private:80 Public:8080 Type:tcp] map[Private:443 Type:tcp]]'],
  [
    '{{range .Ports}}{{.Private}}/{{.Type}}{{if .Public}}->{{.Public}}{{end}} {{end}}',
    '80/tcp->8080 443/tcp ',
  ],
  ['{{.Nested.a.b.c}}', 'deep'],
  ['{{.Missing}}', '<no value>'],
  ['{{.Missing.Deeper}}', '<no value>'],
  ['{{.Config.Cmd}}', '<no value>'],
  [
    '{{.Config.Cmd.X}}',
    { err: 'template: :1:9: executing "" at <.Config.Cmd.X>: nil pointer evaluating interface {}.X' },
  ],
  [
    '{{.Name.Foo}}',
    { err: 'template: :1:7: executing "" at <.Name.Foo>: can\'t evaluate field Foo in type interface {}' },
  ],
  ['{{.EmptyMap}} {{.EmptyList}}', 'map[] []'],
  ['{{range $i, $p := .Ports}}{{if $i}}, {{end}}{{$p.Private}}{{end}}', '80, 443'],
  ['{{range .Names}}{{if eq . "db"}}{{break}}{{end}}{{.}}{{end}}', 'web'],
  ['{{range .Names}}{{if eq . "web"}}{{continue}}{{end}}{{.}}{{end}}', 'db'],
  ['{{range .Names}}{{$.Name}}:{{.}} {{end}}', 'web:web web:db '],
  ['{{(index .Ports 0).Private}}', '80'],
  ['{{.Name | printf "%s!" | upper}}', 'WEB!'],
  ['{{/* a comment */}}x{{- /* trimmed */ -}} y', 'xy'],
  ['{{if and .Flag (eq .Count 3)}}ok{{end}}', 'ok'],
  [
    '{{len .Config.Cmd}}',
    { err: 'template: :1:2: executing "" at <len .Config.Cmd>: error calling len: len of nil pointer' },
  ],
  ['{{.Name', { err: 'template: :1: unclosed action' }],
  ['{{foo .Name}}', { err: 'template: :1: function "foo" not defined' }],
  ['{{end}}', { err: 'template: :1: unexpected {{end}}' }],
  ['{{if .Flag}}x', { err: 'template: :1: unexpected EOF' }],
  ['{{$y}}', { err: 'template: :1: undefined variable "$y"' }],
  ['{{.Name | "x"}}', { err: 'template: :1: non executable command in pipeline stage 2' }],
  ['{{if}}{{end}}', { err: 'template: :1: missing value for if' }],
  ['{{range}}{{end}}', { err: 'template: :1: missing value for range' }],
  ['{{else}}', { err: 'template: :1: unexpected {{else}}' }],
  ['{{.Name }} }}{{ "unterminated }}', { err: 'template: :1: unterminated quoted string' }],
  ["{{ 'x }}", { err: 'template: :1: unterminated character constant' }],
  ['{{"a\\"b"}}', 'a"b'],
  ["{{printf \"%c%c\" 'x' '\\''}}", "x'"],
  [
    '{{3 | printf}}',
    { err: 'template: :1:6: executing "" at <printf>: wrong type for value; expected string; got int' },
  ],
  ['{{break}}', { err: 'template: :1: {{break}} outside {{range}}' }],
  ['{{.Name )}}', { err: 'template: :1: unexpected ")" in command' }],
  ['{{#}}', { err: 'template: :1: unexpected "#" in command' }],
  ['{{/* x }}', { err: 'template: :1: unclosed comment' }],
  ['{{.Na-me}}', { err: "template: :1: bad character U+002D '-'" }],
  ['line1\n{{.A}}\n{{nope}}', { err: 'template: :3: function "nope" not defined' }],
  ['{{upper 3}}', { err: 'template: :1:8: executing "" at <3>: expected string; found 3' }],
  [
    '{{upper .Count}}',
    { err: 'template: :1:8: executing "" at <.Count>: wrong type for value; expected string; got int' },
  ],
  ['{{pad .Name "a" 1}}', { err: 'template: :1:12: executing "" at <"a">: expected integer; found "a"' }],
  [
    '{{index .Count 1}}',
    {
      err: 'template: :1:2: executing "" at <index .Count 1>: error calling index: can\'t index item of type int',
    },
  ],
  [
    '{{len .Count}}',
    { err: 'template: :1:2: executing "" at <len .Count>: error calling len: len of type int' },
  ],
  ['{{.Name 1}}', { err: 'template: :1:2: executing "" at <.Name>: Name is not a method but has arguments' }],
  [
    '{{range .Name}}x{{end}}',
    { err: 'template: :1:8: executing "" at <.Name>: range can\'t iterate over web' },
  ],
  [
    '{{printf}}',
    {
      err: 'template: :1:2: executing "" at <printf>: wrong number of args for printf: want at least 1 got 0',
    },
  ],
  [
    '{{upper}}',
    { err: 'template: :1:2: executing "" at <upper>: wrong number of args for upper: want 1 got 0' },
  ],
  [
    '{{join .Mixed ","}}',
    {
      err: 'template: :1:7: executing "" at <.Mixed>: wrong type for value; expected []string; got []interface {}',
    },
  ],
  [
    '{{upper .Missing}}',
    { err: 'template: :1:8: executing "" at <.Missing>: invalid value; expected string' },
  ],
  ['{{.Labels.app}} {{index .Labels "nope"}}', 'berth <no value>'],
  [
    'x{{.Name.Foo}}',
    { err: 'template: :1:8: executing "" at <.Name.Foo>: can\'t evaluate field Foo in type interface {}' },
  ],
];

describe('Go text/template compatibility', () => {
  it.each(cases)('%s', (source, want, data = D) => {
    if (typeof want === 'string') {
      expect(compileTemplate(source).execute(data)).toBe(want);
      return;
    }
    let err: unknown;
    try {
      compileTemplate(source).execute(data);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TemplateError);
    expect((err as Error).message).toBe(`template parsing error: ${want.err}`);
  });
});
