/**
 * Platforms: parse `os/arch[/variant]`, normalise the many spellings (`aarch64`, `x86_64`,
 * `armhf`), and pick the best manifest of an index for a platform, with containerd's
 * `platforms.Only` fallbacks (arm/v7 accepts v6 then v5, amd64 accepts 386, arm64 accepts arm).
 */
import type { Descriptor, Platform } from './descriptor.js';
import { BerthError } from './errors.js';
import type { Index } from './image-index.js';
import { isIndexType, isManifestType } from './media-types.js';

/** Error codes raised by platform handling. */
export const PlatformErrorCode = {
  /** A platform specifier does not parse. */
  INVALID_PLATFORM: 'INVALID_PLATFORM',
  /** No manifest of an index matches the wanted platform. */
  PLATFORM_NOT_FOUND: 'PLATFORM_NOT_FOUND',
} as const;
/** Union of {@link PlatformErrorCode} values. */
export type PlatformErrorCode = (typeof PlatformErrorCode)[keyof typeof PlatformErrorCode];

const knownOS = new Set([
  'aix',
  'android',
  'darwin',
  'dragonfly',
  'freebsd',
  'hurd',
  'illumos',
  'ios',
  'js',
  'linux',
  'nacl',
  'netbsd',
  'openbsd',
  'plan9',
  'solaris',
  'wasip1',
  'windows',
  'zos',
]);
const knownArch = new Set([
  '386',
  'amd64',
  'amd64p32',
  'arm',
  'armbe',
  'arm64',
  'arm64be',
  'loong64',
  'mips',
  'mipsle',
  'mips64',
  'mips64le',
  'mips64p32',
  'mips64p32le',
  'ppc',
  'ppc64',
  'ppc64le',
  'riscv',
  'riscv64',
  's390',
  's390x',
  'sparc',
  'sparc64',
  'wasm',
]);
const partRe = /^[A-Za-z0-9_.-]+$/;

function normalizeOS(os: string): string {
  const lower = os.toLowerCase();
  return lower === 'macos' ? 'darwin' : lower;
}

function normalizeArch(arch: string, variant: string): [string, string] {
  const a = arch.toLowerCase();
  let v = variant.toLowerCase();
  switch (a) {
    case 'i386':
    case '386':
      return ['386', ''];
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      return ['amd64', v === 'v1' ? '' : v];
    case 'aarch64':
    case 'arm64':
      if (v === '' || v === '8' || v === 'v8' || v === 'v8.0') v = 'v8';
      else if (v === '9' || v === '9.0' || v === 'v9.0') v = 'v9';
      else if (/^[0-9]/.test(v)) v = `v${v}`;
      return ['arm64', v];
    case 'armhf':
      return ['arm', 'v7'];
    case 'armel':
      return ['arm', 'v6'];
    case 'arm':
      if (v === '' || v === '7') v = 'v7';
      else if (v === '5' || v === '6' || v === '8') v = `v${v}`;
      return ['arm', v];
    default:
      return [a, v];
  }
}

/**
 * Normalises a platform the way containerd does for matching, with default variants filled in:
 * `aarch64` → `arm64` (variant `v8`), `x86_64`/`x86-64` → `amd64`, `i386` → `386`, `armhf` →
 * `arm/v7`, `armel` → `arm/v6`, `arm` → `arm/v7`, OS lowercased (`macos` → `darwin`).
 * Other fields (`os.version`, features) are kept.
 */
export function normalizePlatform(p: Platform): Platform {
  const [architecture, variant] = normalizeArch(p.architecture, p.variant ?? '');
  const out: Platform = { ...p, os: normalizeOS(p.os), architecture };
  if (variant === '') delete out.variant;
  else out.variant = variant;
  return out;
}

/** Formats a platform as `os/arch[/variant]` (as given; normalise first for a canonical form). */
export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

const nodeArch: Readonly<Record<string, string>> = {
  x64: 'amd64',
  ia32: '386',
  arm64: 'arm64',
  arm: 'arm',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  mips: 'mips',
  mipsel: 'mipsle',
};

/** The platform this process runs on, normalised (`linux/amd64`, `linux/arm64/v8`, `linux/arm/v7`). */
export function hostPlatform(): Platform {
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  const arch = nodeArch[process.arch] ?? process.arch;
  let variant = '';
  if (arch === 'arm') {
    const armVersion = (process.config.variables as Record<string, unknown>).arm_version;
    variant = typeof armVersion === 'string' || typeof armVersion === 'number' ? String(armVersion) : '';
  }
  return normalizePlatform({ os, architecture: arch, ...(variant ? { variant } : {}) });
}

function invalid(spec: string, why: string): BerthError<'INVALID_PLATFORM'> {
  return new BerthError(
    PlatformErrorCode.INVALID_PLATFORM,
    `platform ${JSON.stringify(spec.slice(0, 200))}: ${why}`,
    {
      input: { field: 'platform' },
    },
  );
}

/**
 * Parses `os[/arch[/variant]]` (or a lone architecture) and returns it normalised. A lone OS
 * takes the host's architecture; a lone architecture takes the host's OS. Throws
 * `INVALID_PLATFORM`.
 *
 * @example
 * ```ts
 * parsePlatform('linux/aarch64'); // { os: 'linux', architecture: 'arm64', variant: 'v8' }
 * ```
 */
export function parsePlatform(spec: string): Platform {
  if (typeof spec !== 'string' || spec === '') throw invalid(String(spec), 'empty platform');
  const parts = spec.split('/');
  if (parts.length > 3) throw invalid(spec, 'expected os/arch[/variant]');
  for (const part of parts) {
    if (!partRe.test(part)) throw invalid(spec, 'invalid characters or empty component');
  }
  const [first, arch, variant] = parts as [string, string | undefined, string | undefined];
  if (arch === undefined) {
    const host = hostPlatform();
    const lower = first.toLowerCase();
    if (knownOS.has(normalizeOS(lower))) {
      const { variant: hostVariant } = host;
      return normalizePlatform({
        os: lower,
        architecture: host.architecture,
        ...(hostVariant ? { variant: hostVariant } : {}),
      });
    }
    const [a] = normalizeArch(lower, '');
    if (knownArch.has(a)) return normalizePlatform({ os: host.os, architecture: lower });
    throw invalid(spec, 'unknown operating system or architecture');
  }
  return normalizePlatform({ os: first, architecture: arch, ...(variant === undefined ? {} : { variant }) });
}

/** True when `candidate` is exactly the `wanted` platform after normalisation (OS, arch, variant). */
export function platformMatches(wanted: Platform, candidate: Platform): boolean {
  const w = normalizePlatform(wanted);
  const c = normalizePlatform(candidate);
  return w.os === c.os && w.architecture === c.architecture && (w.variant ?? '') === (c.variant ?? '');
}

/** The platforms `wanted` can run, best first (containerd's `platformVector`). */
export function compatiblePlatforms(wanted: Platform): Platform[] {
  const w = normalizePlatform(wanted);
  const out: Platform[] = [w];
  const at = (architecture: string, variant?: string): Platform => ({
    os: w.os,
    architecture,
    ...(variant ? { variant } : {}),
  });
  const level = (v: string | undefined) => Number.parseInt((v ?? '').replace(/^v/, ''), 10);
  switch (w.architecture) {
    case 'amd64': {
      const n = level(w.variant);
      if (Number.isInteger(n) && n > 1) {
        for (let i = n - 1; i >= 2; i--) out.push(at('amd64', `v${i}`));
        out.push(at('amd64'));
      }
      out.push(at('386'));
      break;
    }
    case 'arm': {
      const n = level(w.variant);
      if (Number.isInteger(n)) for (let i = n - 1; i >= 5; i--) out.push(at('arm', `v${i}`));
      break;
    }
    case 'arm64': {
      if (w.variant !== 'v8') out.push(at('arm64', 'v8'));
      for (let i = 8; i >= 5; i--) out.push(at('arm', `v${i}`));
      break;
    }
  }
  return out;
}

function isSelectable(d: Descriptor): boolean {
  return isManifestType(d.mediaType) || isIndexType(d.mediaType);
}

/**
 * Picks the best manifest of an index for `wanted` (default: the host): an exact match first,
 * then the compatible fallbacks in {@link compatiblePlatforms} order, then (like containerd) an
 * entry without a platform. Returns `undefined` when nothing fits; see {@link platformNotFound}.
 * Index order breaks ties. The result may itself be an index (nested).
 */
export function selectManifest(index: Index, wanted?: Platform | string): Descriptor | undefined {
  const target =
    wanted === undefined ? hostPlatform() : typeof wanted === 'string' ? parsePlatform(wanted) : wanted;
  const vector = compatiblePlatforms(target);
  let best: Descriptor | undefined;
  let bestRank = Number.POSITIVE_INFINITY;
  let platformless: Descriptor | undefined;
  for (const d of index.manifests) {
    if (!isSelectable(d)) continue;
    if (d.platform === undefined) {
      platformless ??= d;
      continue;
    }
    const platform = d.platform;
    const rank = vector.findIndex((p) => platformMatches(p, platform));
    if (rank !== -1 && rank < bestRank) {
      best = d;
      bestRank = rank;
    }
  }
  return best ?? platformless;
}

/** The platforms an index offers, formatted, without attestation entries (`unknown/unknown`). */
export function availablePlatforms(index: Index): string[] {
  const seen = new Set<string>();
  for (const d of index.manifests) {
    if (d.platform === undefined || d.platform.os === 'unknown') continue;
    seen.add(formatPlatform(normalizePlatform(d.platform)));
  }
  return [...seen];
}

/**
 * The `PLATFORM_NOT_FOUND` error for an index without a match, in Docker's words plus the list
 * of what is available: `busybox:1: no matching manifest for linux/arm64/v8 in the manifest list
 * entries (available: linux/amd64, linux/arm/v7)`.
 */
export function platformNotFound(opts: {
  index: Index;
  wanted: Platform;
  ref?: string;
}): BerthError<'PLATFORM_NOT_FOUND'> {
  const available = availablePlatforms(opts.index);
  const subject = opts.ref ?? 'image';
  return new BerthError(
    PlatformErrorCode.PLATFORM_NOT_FOUND,
    `${subject}: no matching manifest for ${formatPlatform(normalizePlatform(opts.wanted))} in the manifest list entries (available: ${available.length ? available.join(', ') : 'none'})`,
    opts.ref === undefined ? {} : { input: { ref: opts.ref } },
  );
}
