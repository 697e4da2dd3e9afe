"""One real kernel of the project for the platform tests, through jupyter_client.

The interrupt scripts and run_cells.py start the kernel `npm run notebook` registers (JUPYTER_PATH
from scripts/platform/jupyter.ts's jupyterEnv) and execute cells in it; this module holds what they
share: starting and stopping the kernel, reading one iopub message as an output, and running one
cell to its end. Scripts in this folder import it by name (Python puts a script's folder first on
sys.path).
"""
import contextlib
import time

from jupyter_client.manager import KernelManager

# scripts/platform/jupyter.ts's KERNEL_NAME: the kernelspec registerKernel() writes.
KERNEL_NAME = "tslab-finetune"


@contextlib.contextmanager
def project_kernel(ready_timeout=120):
    """Start the project's kernel and yield (manager, client); shut it down however the block ends."""
    km = KernelManager(kernel_name=KERNEL_NAME)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=ready_timeout)
        yield km, kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def output_of(msg, t0=None):
    """An iopub message as {kind, text[, t]} (stream, display or error), or None for the others."""
    kind, content = msg["msg_type"], msg["content"]
    if kind == "stream":
        out = {"kind": content["name"], "text": content["text"]}
    elif kind in ("display_data", "update_display_data", "execute_result"):
        out = {"kind": kind, "text": content.get("data", {}).get("text/plain", "")}
    elif kind == "error":
        text = "\n".join(content.get("traceback", [])) or f"{content.get('ename')}: {content.get('evalue')}"
        out = {"kind": "error", "text": text}
    else:
        return None
    if t0 is not None:
        out["t"] = time.time() - t0
    return out


def summary(out):
    """One output as one string, 'stdout: text' or 'display_data: text'."""
    return f"{out['kind']}: {out['text']}"


def run_cell(km, kc, code, timeout, on_output=None):
    """Execute `code` and wait until its cell is idle.

    Returns (outputs, status): the cell's outputs in order ({kind, text, t}: t seconds after sending)
    and its execute reply's status ('ok', 'error'), or 'timeout' / 'kernel died' / 'no reply'.
    `on_output(outputs)` is called after each output (e.g. to interrupt once training has started).
    """
    t0 = time.time()
    msg_id = kc.execute(code)
    outputs = []
    while True:
        if time.time() - t0 > timeout:
            return outputs, "timeout"
        try:
            msg = kc.get_iopub_msg(timeout=1)
        except Exception:  # queue.Empty: nothing within a second
            if not km.is_alive():
                return outputs, "kernel died"
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        out = output_of(msg, t0)
        if out:
            outputs.append(out)
            if on_output:
                on_output(outputs)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    try:
        reply = kc.get_shell_msg(timeout=60)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = kc.get_shell_msg(timeout=60)
        status = reply["content"].get("status", "?")
    except Exception:
        return outputs, "no reply"
    # tslab drops requests that arrive within ~200 ms after an error.
    if status == "error":
        time.sleep(0.4)
    return outputs, status


def stream_text(outputs):
    """What a cell printed (stdout and stderr), as one string."""
    return "".join(o["text"] for o in outputs if o["kind"] in ("stdout", "stderr"))
