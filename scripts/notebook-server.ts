// `npm run notebook`: the classic Jupyter Notebook on 127.0.0.1 with the project kernel.
// Token auth stays on; Jupyter prints the URL with its token.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { setup, jupyterEnv, ROOT, KERNEL_NAME } from './platform/jupyter';

const { python } = setup();
const config = path.join(__dirname, 'platform', 'jupyter_notebook_config.py');
const args = [
  '-m',
  'notebook',
  `--config=${config}`,
  '--no-browser',
  '--ip=127.0.0.1',
  `--port=${process.env.NB_PORT ?? 8888}`,
  `--notebook-dir=${ROOT}`,
  `--MappingKernelManager.default_kernel_name=${KERNEL_NAME}`,
];
if (typeof process.getuid === 'function' && process.getuid() === 0) args.push('--allow-root');
console.log(
  `Starting Jupyter Notebook (kernel '${KERNEL_NAME}'); open the URL it prints, then notebooks/.`,
);
const child = spawn(python, args, { cwd: ROOT, env: jupyterEnv(), stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => child.kill(sig));
child.on('exit', (code) => process.exit(code ?? 0));
