// `npm run setup`: install Jupyter when missing and register the project kernel (idempotent).
import { setup, JUPYTER_DATA, KERNEL_NAME } from './platform/jupyter';

try {
  const { python } = setup();
  console.log(`Jupyter: ${python}; kernel '${KERNEL_NAME}' in ${JUPYTER_DATA}`);
} catch (e) {
  console.error((e as Error).message);
  process.exit(1);
}
