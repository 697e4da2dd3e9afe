"""Execute a notebook on the tslab kernel and export it, filling in what tslab leaves out.

tslab sends no `execute_input` (so Jupyter never learns execution counts) and no `error`
message (so nbclient's CellExecutionError is empty and the report would show no error). This
runner numbers the cells itself, turns a failing cell's stderr into a proper `error` output,
stops at the first failing cell (as "Run All" does), saves the executed notebook and its HTML
export either way, and prints one JSON summary line last on stdout.

Usage: nbexec.py IN.ipynb OUT.ipynb [--html OUT.html] [--kernel NAME] [--timeout SECONDS]
       nbexec.py --export-only EXECUTED.ipynb --html OUT.html   (no kernel: export what is there)
"""
import argparse
import json
import os
import re
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

METRICS_MIME = "application/vnd.nb.metrics+json"


def stderr_text(cell):
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream" and o.get("name") == "stderr")


def to_error_output(cell, fallback):
    """Replace the cell's stderr streams by one `error` output that carries their text."""
    text = stderr_text(cell).strip() or fallback or "the cell failed (the kernel sent no error text)"
    # Frames inside tslab and node:vm say nothing about the user's cell.
    lines = [ln for ln in text.splitlines() if not re.search(r"node_modules[\\/]tslab[\\/]|\(node:vm:|sigintHandlersWrap", ln)]
    # tslab prints "Error: message\n    at ..." for exceptions and "l:c - message" for type errors.
    ename, evalue = "Error", lines[0] if lines else text
    for ln in lines:
        exc = re.match(r"^((?:[A-Za-z_][\w.]*)?(?:Error|Exception)):\s*(.*)$", ln)
        compile_error = re.match(r"^\d+:\d+ - (.*)$", ln)
        if exc or compile_error:
            ename, evalue = (exc.group(1), exc.group(2)) if exc else ("CompileError", compile_error.group(1))
            break
    cell["outputs"] = [o for o in cell["outputs"] if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    cell["outputs"].append(nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=lines))
    return ename, evalue, text


def collect_metrics(nb):
    metrics = {}
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            data = o.get("data") or {}
            if METRICS_MIME in data:
                value = data[METRICS_MIME]
                metrics.update(json.loads(value) if isinstance(value, str) else value)
    return metrics


def export_html(nb, path, name):
    from nbconvert import HTMLExporter

    # nbconvert 6.5 runs outputs through lxml's clean_html, which strips every SVG element but <svg>
    # (blank charts) and inline styles. These notebooks are our own output: keep them as they are.
    # report.html.j2 (next to this file) extends JupyterLab's template: no scripts loaded from this
    # machine's system paths (one file that renders offline elsewhere), plus print rules.
    exporter = HTMLExporter(
        template_name="lab",
        template_file="report.html.j2",
        extra_template_paths=[os.path.join(os.path.dirname(os.path.abspath(__file__)), "report-template")],
        filters={"clean_html": lambda s: s},
    )
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": name}})
    with open(path, "w", encoding="utf-8") as f:
        f.write(body)


def export_only(path, html):
    """Export an already executed notebook: its outputs as they are, the same summary line."""
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    summary = {"ok": not errors, "cells": len(code), "seconds": 0.0, "metrics": collect_metrics(nb), "exportOnly": True}
    if not any(c.get("outputs") for c in code):
        summary.update(ok=False, cell=None, error=f"{path} has no outputs: it was never executed. Run it first: npm run report -- {path}")
    elif errors:
        summary.update(ok=False, ename=errors[0].get("ename"), evalue=errors[0].get("evalue"), error="\n".join(errors[0].get("traceback", [])))
    export_html(nb, html, os.path.splitext(os.path.basename(path))[0])
    print(json.dumps(summary))
    return 0 if summary["ok"] else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("input")
    ap.add_argument("output", nargs="?")
    ap.add_argument("--html")
    ap.add_argument("--kernel", default="tslab-finetune")
    ap.add_argument("--timeout", type=int, default=3600, help="seconds per cell")
    ap.add_argument("--export-only", action="store_true", help="export INPUT (already executed) to --html; run nothing")
    args = ap.parse_args()
    if args.export_only:
        if not args.html:
            ap.error("--export-only needs --html OUT.html")
        return export_only(args.input, args.html)
    if not args.output:
        ap.error("OUTPUT.ipynb is required unless --export-only")

    nb = nbformat.read(args.input, as_version=4)
    nb.metadata["kernelspec"] = {"name": args.kernel, "display_name": "TypeScript (tslab)", "language": "typescript"}
    client = NotebookClient(nb, kernel_name=args.kernel, timeout=args.timeout, allow_errors=False, record_timing=True)
    summary = {"ok": True, "cells": 0, "seconds": 0.0}
    started = time.time()
    count = 0
    try:
        with client.setup_kernel():
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                count += 1
                try:
                    client.execute_cell(cell, index)
                except (CellExecutionError, CellTimeoutError, DeadKernelError) as e:
                    ename, evalue, text = to_error_output(cell, str(e).strip())
                    cell["execution_count"] = count
                    summary.update(ok=False, cell=count, cellIndex=index, ename=ename, evalue=evalue, error="\n".join(cell["outputs"][-1]["traceback"]))
                    break
                finally:
                    cell["execution_count"] = count
                    for o in cell.get("outputs", []):
                        if "execution_count" in o:
                            o["execution_count"] = count
    except Exception as e:  # kernel failed to start, etc.
        summary.update(ok=False, cell=None, error=f"{type(e).__name__}: {e}")
    summary["cells"] = count
    summary["seconds"] = round(time.time() - started, 1)
    summary["metrics"] = collect_metrics(nb)
    nbformat.write(nb, args.output)
    if args.html:
        export_html(nb, args.html, os.path.splitext(os.path.basename(args.input))[0])
    print(json.dumps(summary))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
