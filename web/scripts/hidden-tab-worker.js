// The Worker side of the hidden-tab measurement: the harness answers the
// page's calls {id, method, args} with {id, ok, value | error}.
import { createHarness } from './hidden-tab-harness.js';

const ready = createHarness();
self.onmessage = async (e) => {
  const { id, method, args } = e.data;
  try {
    const h = await ready;
    postMessage({ id, ok: true, value: await h[method](...(args || [])) });
  } catch (err) {
    postMessage({ id, ok: false, error: { message: String(err?.message ?? err), code: err?.code } });
  }
};
