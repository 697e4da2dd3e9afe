"""Run cells in one real kernel of the project (its kernelspec, as `npm run notebook` starts it).

Reads a JSON list of cell sources on stdin; prints one JSON line: per cell, its reply status and
each output with the seconds since the cell was sent. Used by test/platform/kernel-preload.test.ts.
"""
import json
import sys
import time

from jupyter_client.manager import KernelManager

cells = json.load(sys.stdin)
km = KernelManager(kernel_name="tslab-finetune")
km.start_kernel()
kc = km.client()
kc.start_channels()
kc.wait_for_ready(timeout=120)
results = []
try:
    for code in cells:
        t0 = time.time()
        msg_id = kc.execute(code)
        outputs = []
        while True:
            msg = kc.get_iopub_msg(timeout=300)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                outputs.append({"t": time.time() - t0, "kind": content["name"], "text": content["text"]})
            elif kind in ("display_data", "update_display_data", "execute_result"):
                text = content["data"].get("text/plain", "")
                outputs.append({"t": time.time() - t0, "kind": kind, "text": text})
            elif kind == "error":
                outputs.append({"t": time.time() - t0, "kind": "error", "text": "\n".join(content["traceback"])})
            elif kind == "status" and content["execution_state"] == "idle":
                break
        reply = kc.get_shell_msg(timeout=60)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = kc.get_shell_msg(timeout=60)
        results.append({"status": reply["content"]["status"], "outputs": outputs})
        # tslab drops requests that arrive within 200 ms after an error.
        time.sleep(0.4 if reply["content"]["status"] == "error" else 0)
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)
print(json.dumps(results))
