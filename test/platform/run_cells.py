"""Run cells in one real kernel of the project (its kernelspec, as `npm run notebook` starts it).

Reads a JSON list of cell sources on stdin; prints one JSON line: per cell, its reply status and
each output with the seconds since the cell was sent. Used by test/platform/kernel-preload.test.ts.
"""
import json
import sys

from kernel_session import project_kernel, run_cell

cells = json.load(sys.stdin)
results = []
with project_kernel() as (km, kc):
    for code in cells:
        outputs, status = run_cell(km, kc, code, 300)
        results.append({"status": status, "outputs": outputs})
print(json.dumps(results))
