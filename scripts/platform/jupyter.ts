// Jupyter on this machine: find a Python that has it, install it when missing, and register the
// project's tslab kernel in a project-local prefix (never in the system's Jupyter folders).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../../lib/io/atomic';

export const ROOT = path.resolve(__dirname, '..', '..');
/** Project-local Jupyter data dir: kernelspecs live here, JUPYTER_PATH points at it. */
export const JUPYTER_DATA = path.join(ROOT, '.jupyter', 'share', 'jupyter');
export const KERNEL_NAME = 'tslab-finetune';
export const KERNEL_DISPLAY = 'TypeScript (tslab, fine-tuning notebooks)';

/** Debian/Ubuntu packages that provide the classic Notebook, nbconvert, nbclient and the kernel test suite. */
export const APT_PACKAGES = [
  'jupyter-notebook',
  'jupyter-nbconvert',
  'python3-nbconvert',
  'python3-nbclient',
  'jupyter-client',
  'python3-ipykernel',
  'python3-jupyter-kernel-test',
];
/**
 * What the fast path needs beyond Jupyter: oneDNN's headers (the native backend builds against
 * them) and fonts for the text in charts and prediction grids. Chromium only for PDF export.
 */
export const FAST_PATH_PACKAGES = ['libdnnl-dev', 'fonts-dejavu-core'];
export const PDF_PACKAGES = ['chromium'];

/** Debian packages of `names` that are not installed (none when this is no Debian/Ubuntu). */
export function missingDebianPackages(names: string[]): string[] {
  if (!fs.existsSync('/usr/bin/dpkg')) return [];
  return names.filter((n) => run('dpkg', ['-s', n]).status !== 0);
}

/** apt-get install `names` when we are allowed to (root or passwordless sudo); false otherwise. */
export function aptInstall(names: string[], log: (s: string) => void = console.log): boolean {
  if (names.length === 0) return true;
  if (!fs.existsSync('/usr/bin/apt-get') || !(isRoot() || hasPasswordlessSudo())) return false;
  const sudo = isRoot() ? [] : ['sudo', '-n'];
  log(`Installing Debian packages: ${names.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const [cmd, ...pre] = [...sudo, 'apt-get'];
  run(cmd, [...pre, 'update', '-qq'], { env, inherit: true });
  return (
    run(cmd, [...pre, 'install', '-y', '-qq', '--no-install-recommends', ...names], {
      env,
      inherit: true,
    }).status === 0
  );
}

export const NATIVE_ADDON = path.join(ROOT, 'native', 'build', 'Release', 'onednn.node');

/**
 * The fast CPU path: oneDNN's headers installed and the native addon built. `npm install` skips the
 * build when the headers are missing; this installs them and builds it then. Returns a line for the log.
 */
export function ensureNativeBackend(log: (s: string) => void = console.log): string {
  const missing = missingDebianPackages(FAST_PATH_PACKAGES);
  if (missing.length && !aptInstall(missing, log)) {
    return (
      `native backend: missing ${missing.join(', ')} and no root/sudo to install them ` +
      `(sudo apt-get install -y ${missing.join(' ')}, then npm run build:native); notebooks run on wasm (slower).`
    );
  }
  if (fs.existsSync(NATIVE_ADDON)) return 'native backend: oneDNN addon present';
  log('Building the oneDNN addon (native/build.js)…');
  const r = run(process.execPath, [path.join(ROOT, 'native', 'build.js')], { inherit: true });
  return fs.existsSync(NATIVE_ADDON) && r.status === 0
    ? 'native backend: oneDNN addon built'
    : 'native backend: the oneDNN addon did not build (see native/build-error.log); notebooks run on wasm (slower).';
}
export const PIP_PACKAGES = [
  'notebook<7',
  'nbconvert',
  'nbclient',
  'jupyter_client',
  'jupyter_kernel_test',
];

const MODULES = ['nbclient', 'nbconvert', 'notebook', 'jupyter_client'];

function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; inherit?: boolean } = {},
) {
  return spawnSync(cmd, args, {
    encoding: 'utf8',
    env: opts.env ?? process.env,
    stdio: opts.inherit ? 'inherit' : 'pipe',
  });
}

/**
 * The Python that can import Jupyter's modules. Debian's /usr/bin/python3 first: a pyenv or venv
 * python3 earlier on PATH usually cannot see the apt-installed packages. JUPYTER_PYTHON overrides.
 */
export function findJupyterPython(): string | null {
  const candidates = [process.env.JUPYTER_PYTHON, '/usr/bin/python3', 'python3'].filter(
    (x): x is string => !!x,
  );
  for (const py of candidates) {
    const r = run(py, ['-c', `import ${MODULES.join(', ')}`]);
    if (r.status === 0) return py;
  }
  return null;
}

/** Environment for anything Jupyter: our kernelspec first, no debugger warning noise. */
export function jupyterEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const jp = [JUPYTER_DATA, process.env.JUPYTER_PATH].filter(Boolean).join(path.delimiter);
  return { ...process.env, JUPYTER_PATH: jp, PYDEVD_DISABLE_FILE_VALIDATION: '1', ...extra };
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}
function hasPasswordlessSudo(): boolean {
  return run('sudo', ['-n', 'true']).status === 0;
}

/** The exact commands a person can run when we cannot install Jupyter ourselves. */
export function manualInstallHelp(): string {
  return [
    'Jupyter (notebook, nbconvert, nbclient) is not installed and could not be installed automatically.',
    'Install it with one of:',
    `  sudo apt-get install -y --no-install-recommends ${APT_PACKAGES.join(' ')}`,
    `  python3 -m pip install --user ${PIP_PACKAGES.map((p) => `'${p}'`).join(' ')}`,
    `  conda install -c conda-forge notebook=6 nbconvert nbclient jupyter_client`,
    'then run `npm start` again (or set JUPYTER_PYTHON=/path/to/python3 when it lives elsewhere).',
  ].join('\n');
}

/** Make sure Jupyter is importable; install it the least intrusive way we are allowed to. */
export function ensureJupyter(log: (s: string) => void = console.log): string {
  let py = findJupyterPython();
  if (py) return py;
  // Jupyter and the fast path's packages in one apt run.
  if (aptInstall([...APT_PACKAGES, ...missingDebianPackages(FAST_PATH_PACKAGES)], log))
    py = findJupyterPython();
  if (!py) {
    log('Trying pip install --user (no root/sudo or apt failed)');
    const r = run('python3', ['-m', 'pip', 'install', '--user', '-q', ...PIP_PACKAGES], {
      inherit: true,
    });
    if (r.status === 0) py = findJupyterPython();
  }
  if (!py) throw new Error(manualInstallHelp());
  return py;
}

/**
 * The kernelspec. tslab starts with scripts/platform/tslab-preload.cjs loaded (`{ model }` across
 * cells, errors without tslab's frames, the first cell's line). The kernel first changes to the project root: tslab makes the kernel's working
 * directory its TypeScript root, and files outside that root cannot be imported. Starting at the
 * root lets every notebook `import ... from "./lib"`, the same in the Jupyter UI and headless.
 */
export function kernelSpec(root = ROOT) {
  const tslabMain = path.join(root, 'node_modules', 'tslab', 'bin', 'tslab');
  const preload = path.join(root, 'scripts', 'platform', 'tslab-preload.cjs');
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return {
    argv: [
      '/bin/sh',
      '-c',
      `cd ${q(root)} && exec ${q(process.execPath)} --require ${q(preload)} ${q(tslabMain)} kernel --config-path "$0"`,
      '{connection_file}',
    ],
    display_name: KERNEL_DISPLAY,
    language: 'typescript',
    metadata: { debugger: false },
  };
}

/** Write (or refresh) the project kernelspec; returns true when something changed. */
export function registerKernel(root = ROOT): boolean {
  const dir = path.join(JUPYTER_DATA, 'kernels', KERNEL_NAME);
  const file = path.join(dir, 'kernel.json');
  const body = JSON.stringify(kernelSpec(root), null, 2) + '\n';
  if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === body) return false;
  fs.mkdirSync(dir, { recursive: true });
  writeFileAtomic(file, body);
  return true;
}

/** Everything `npm start` needs before it can run notebooks. Idempotent and quick when done. */
export function setup(log: (s: string) => void = console.log): { python: string; native: string } {
  if (!fs.existsSync(path.join(ROOT, 'node_modules', 'tslab'))) {
    throw new Error(`tslab is not installed in ${ROOT}/node_modules: run \`npm install\` first.`);
  }
  const python = ensureJupyter(log);
  const native = ensureNativeBackend(log);
  if (registerKernel()) log(`Registered kernel '${KERNEL_NAME}' in ${JUPYTER_DATA}`);
  return { python, native };
}
