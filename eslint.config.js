// Type-aware lint: the async mistakes (floating promises, missing awaits) are
// the ones that hurt a serverless app most.
import tseslint from "typescript-eslint";

// Layering, enforced (docs/architecture.md): functions → http → domain ← adapters; one composition root wires
// the real clients; emulators never reach a production path. ESLint applies only the LAST matching `files` block's
// options for a rule, so each zone lists every group that applies to it (the domain's list includes the rest).
// Regexes are matched against the import specifier as written (relative paths, packages, `node:` modules).
const layerDir = (name) => `^(\\.{1,2}/)+(.*/)?${name}(/|\\.js$|$)`;
const emulatorsGroup = {
  regex: layerDir("emulators"),
  message: "Production code never imports src/emulators (simulated Azure is wired by src/localhost and the tests).",
};
const httpGroups = [
  emulatorsGroup,
  { regex: layerDir("adapters"), message: "src/http depends on domain ports, not adapters: take a service instead." },
  {
    regex: layerDir("composition"),
    message: "src/http never imports the composition root: handler factories are given their services by functions/.",
  },
];
// node: modules the domain may use: pure computation, no I/O. node:crypto is allowed for ids and tokens
// (randomUUID/randomBytes are not I/O and need no fake); the clock and sleep still come in from outside.
const domainPureNodeModules = ["crypto", "util", "events", "assert", "buffer", "url"];
const domainGroups = [
  ...httpGroups.map((group) => ({ ...group, message: group.message.replace("src/http", "src/domain") })),
  {
    regex: "^(?!node:|\\.{1,2}/)",
    message:
      "src/domain imports no package (SDKs such as @azure/*, @kubernetes/*, jose, ajv): " +
      "define a port in the domain and implement it in src/adapters.",
  },
  {
    regex: `^node:(?!(${domainPureNodeModules.join("|")})(/|$))`,
    message: "src/domain does no I/O (fs, net, http, child_process, timers…): take it through a port.",
  },
  { regex: layerDir("config"), message: "src/domain never reads src/config: the composition root passes values in." },
  {
    regex: layerDir("(http|functions|localhost)"),
    message: "Dependencies point down: src/domain never imports http, functions or localhost.",
  },
];

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", ".data/**", "coverage/**", "**/*.js", "**/*.mjs"] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/return-await": ["error", "in-try-catch"],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/require-await": "off",
    },
  },
  {
    files: ["src/**/*.ts", "functions/**/*.ts"],
    ignores: ["src/emulators/**", "src/localhost/**"],
    rules: { "no-restricted-imports": ["error", { patterns: [emulatorsGroup] }] },
  },
  { files: ["src/http/**/*.ts"], rules: { "no-restricted-imports": ["error", { patterns: httpGroups }] } },
  { files: ["src/domain/**/*.ts"], rules: { "no-restricted-imports": ["error", { patterns: domainGroups }] } },
  {
    files: ["test/**/*.ts", "bench/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-floating-promises": [
        "error",
        {
          allowForKnownSafeCalls: [
            { from: "package", package: "node:test", name: ["test", "it", "describe", "suite"] },
          ],
        },
      ],
    },
  },
);
