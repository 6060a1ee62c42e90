import { release } from 'node:os';
import { renderObject } from '../format/formatter.js';
import { tabwrite } from '../format/tabwriter.js';
import { compileTemplate } from '../format/template.js';
import { API_VERSION, BERTH_VERSION, BUILD_TIME, GIT_COMMIT, MIN_API_VERSION } from '../version-info.js';
import type { CommandContext } from './spec.js';

/** `berth version`: docker's Client section plus a Server section for the in-process engine. */

const GO_ARCH: Record<string, string> = {
  x64: 'amd64',
  ia32: '386',
  arm64: 'arm64',
  arm: 'arm',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
};
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Go's time.ANSIC in UTC (`Fri May 30 12:07:14 2025`), as `docker version` prints build times. */
export function formatAnsic(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

/** The data behind `berth version`, shaped like docker's so `{{.Client.Version}}` and `{{.Server.Version}}` work. */
export function versionData(): Record<string, unknown> {
  const built = BUILD_TIME === 'unknown' ? 'unknown' : formatAnsic(BUILD_TIME);
  const os = process.platform;
  const arch = GO_ARCH[process.arch] ?? process.arch;
  const kernel = release();
  return {
    Client: {
      Platform: { Name: 'berth' },
      Version: BERTH_VERSION,
      ApiVersion: API_VERSION,
      DefaultAPIVersion: API_VERSION,
      NodeVersion: process.version,
      GitCommit: GIT_COMMIT,
      BuildTime: built,
      Os: os,
      Arch: arch,
    },
    Server: {
      Platform: { Name: 'berth engine (daemonless, in-process)' },
      Components: [
        {
          Name: 'Engine',
          Version: BERTH_VERSION,
          Details: {
            ApiVersion: API_VERSION,
            MinAPIVersion: MIN_API_VERSION,
            NodeVersion: process.version,
            GitCommit: GIT_COMMIT,
            BuildTime: built,
            Os: os,
            Arch: arch,
            KernelVersion: kernel,
            Mode: 'daemonless',
          },
        },
      ],
      Version: BERTH_VERSION,
      ApiVersion: API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      NodeVersion: process.version,
      GitCommit: GIT_COMMIT,
      Os: os,
      Arch: arch,
      KernelVersion: kernel,
      BuildTime: built,
    },
  };
}

// docker/cli's defaultVersionTemplate, adapted: Node instead of Go, a daemonless server.
const DEFAULT_TEMPLATE = `{{with .Client -}}
Client:
 Version:\t{{.Version}}
 API version:\t{{.ApiVersion}}
 Node version:\t{{.NodeVersion}}
 Git commit:\t{{.GitCommit}}
 Built:\t{{.BuildTime}}
 OS/Arch:\t{{.Os}}/{{.Arch}}
{{- end}}
{{- with .Server}}

Server:{{if ne .Platform.Name ""}} {{.Platform.Name}}{{end}}
 {{- range $component := .Components}}
 {{$component.Name}}:
  Version:\t{{.Version}}
  API version:\t{{index .Details "ApiVersion"}} (minimum version {{index .Details "MinAPIVersion"}})
  Node version:\t{{index .Details "NodeVersion"}}
  Git commit:\t{{index .Details "GitCommit"}}
  Built:\t{{index .Details "BuildTime"}}
  OS/Arch:\t{{index .Details "Os"}}/{{index .Details "Arch"}}
  Kernel version:\t{{index .Details "KernelVersion"}}
  Mode:\t{{index .Details "Mode"}} (no berthd needed)
 {{- end}}
{{- end}}`;

/** Runs `berth version`. */
export async function run(ctx: CommandContext): Promise<number> {
  const format = ctx.flags.string('format');
  const data = versionData();
  if (format !== '') {
    ctx.io.stdout.write(renderObject(data, format));
    return 0;
  }
  const text = compileTemplate(DEFAULT_TEMPLATE).execute(data);
  ctx.io.stdout.write(tabwrite(`${text}\n`, { minWidth: 20, padding: 1 }));
  return 0;
}
