// dependency-cruiser rules generated from DESIGN.md's arrows (STYLE.md, Module boundaries):
// apps -> engine -> {compose, builder, network, volumes, runtime, overlay, store, registry} -> oci.
// The flock/mount/umount2 addon is runtime's (DESIGN.md, The kernel boundary: the C sits in
// packages/runtime/native/): a leaf that needs a lock or a mount declares the interface in oci
// (FileLocker, Mounter), ships a default of its own, and engine injects runtime's implementation.
// Siblings never import each other. Only test files (*.test.ts, *.int.test.ts) may reach into
// tools/ (the fixtures), never the code a package ships. Run by `pnpm lint:deps` in CI.
const leaves = ['registry', 'store', 'overlay', 'runtime', 'network', 'volumes', 'builder', 'compose'];
const allowed = {
  oci: [],
  engine: ['oci', ...leaves],
  ...Object.fromEntries(leaves.map((p) => [p, ['oci']])),
};
const all = Object.keys(allowed);

const forbidden = all.map((pkg) => {
  const banned = all.filter((other) => other !== pkg && !allowed[pkg].includes(other));
  const b = banned.join('|');
  return {
    name: `${pkg}-imports`,
    comment: `@berth/${pkg} may import only: ${allowed[pkg].join(', ') || 'nothing of ours'} (DESIGN.md)`,
    severity: 'error',
    from: { path: `^packages/${pkg}/` },
    // the bare name too: an import of a package that is not a dependency does not resolve
    to: { path: `^(packages/(${b})/|node_modules/@berth/(${b})/|@berth/(${b})(/|$))` },
  };
});

forbidden.push(
  {
    name: 'apps-only-engine-and-oci',
    comment: 'apps import @berth/engine and @berth/oci only (DESIGN.md)',
    severity: 'error',
    from: { path: '^apps/' },
    // the CLI depends on @berth/runtime for its native build (berth-sys.node), never imports it
    to: {
      path: `^(packages/|node_modules/@berth/|@berth/)(${all.filter((p) => p !== 'engine' && p !== 'oci').join('|')})(/|$)`,
    },
  },
  {
    // Nothing under packages/, tests included, reaches into apps or tools (DESIGN.md's arrows):
    // the integration tests that use the offline fixtures and the registry/dockerd helpers live
    // in tools/integration and test each package through its public API. The bare name too: an
    // import of a package that is not a dependency does not resolve.
    name: 'packages-never-import-apps-or-tools',
    severity: 'error',
    from: { path: '^packages/' },
    to: { path: '^(apps|tools)/|^@berth/(fixtures|bench|cli|integration)(/|$)' },
  },
  {
    name: 'no-circular',
    severity: 'error',
    from: {},
    to: { circular: true },
  },
);

module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(node_modules|dist|native/build)' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['@berth/source', 'import', 'default'],
      extensions: ['.ts', '.js'],
    },
  },
};
