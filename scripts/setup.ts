// `npm run setup`: install Jupyter when missing, register the project kernel and the git filter
// that keeps notebook outputs out of commits (idempotent).
import { setup, JUPYTER_DATA, KERNEL_NAME } from './platform/jupyter';

// Plain CommonJS (git runs it as the clean filter without tsx); see the file's header.
const nbstrip = require('./platform/nbstrip.cjs') as { install: () => string };

try {
  const { python } = setup();
  console.log(`Jupyter: ${python}; kernel '${KERNEL_NAME}' in ${JUPYTER_DATA}`);
  console.log(nbstrip.install());
} catch (e) {
  console.error((e as Error).message);
  process.exit(1);
}
