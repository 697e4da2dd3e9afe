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
import copy
import html as html_lib
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


def report_notebook(nb):
    """The notebook as the report shows it: the headline-metrics table is for `npm start` and the
    report's front matter, not a second machine-style table under the results table."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell["outputs"] = [o for o in cell.get("outputs", []) if METRICS_MIME not in (o.get("data") or {})]
    return nb


def heading_text(html):
    return html_lib.unescape(re.sub(r"<[^>]+>", "", html)).replace("\u00b6", "").strip()


def front_matter(body, provenance, metrics, seconds, subtitle=""):
    """Title line, provenance and a table of contents, placed under the report's first heading."""
    headings = re.findall(r'<h([1-3]) id="([^"]+)">(.*?)</h\1>', body, flags=re.S)
    if not headings:
        return body
    esc = html_lib.escape
    toc = "".join(
        f'<li class="nb-toc-h{level}"><a href="#{esc(anchor, quote=True)}">{esc(heading_text(text))}</a></li>'
        for level, anchor, text in headings[1:]
    )
    p = provenance or {}
    runtime = f"{seconds:.0f} s" if seconds else p.get("runtime", "")
    facts = [
        ("profile", p.get("profile")),
        ("weights", metrics.get("weights")),
        ("data", metrics.get("data")),
        ("date", p.get("date")),
        ("git commit", p.get("commit")),
        ("command", p.get("command")),
        ("backend", metrics.get("backend")),
        ("CPU", p.get("cpu")),
        ("runtime", runtime),
        ("seed", metrics.get("seed")),
    ]
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(str(v))}</td></tr>" for k, v in facts if v not in (None, ""))
    links = "".join(
        f'<a href="{esc(r["html"], quote=True)}">{esc(r["title"])}</a>' for r in p.get("reports", []) if r.get("html")
    )
    nav = f'<p class="nb-links"><a href="index.html">All reports</a>{links}</p>' if p.get("reports") else ""
    block = (
        f'<div class="nb-front">{nav}'
        + (f'<p class="nb-subtitle"><strong>{esc(subtitle)}</strong></p>' if subtitle else "")
        + f'<table class="nb-provenance">{rows}</table>'
        f'<nav class="nb-toc"><p><strong>Contents</strong></p><ul>{toc}</ul></nav></div>'
    )
    end = body.index("</h1>") + len("</h1>") if headings[0][0] == "1" else None
    if end is None:
        return body
    return body[:end] + block + body[end:]


def relative_paths(text, provenance):
    """Paths of the machine that ran it, shown relative to the project or ~ (a report travels)."""
    p = provenance or {}
    for prefix, shown in ((p.get("root"), ""), (p.get("home"), "~/")):
        if prefix:
            text = text.replace(prefix.rstrip("/") + "/", shown)
    return text


def export_html(nb, path, name, provenance=None, seconds=0.0, no_input=False):
    from nbconvert import HTMLExporter

    # nbconvert 6.5 runs outputs through lxml's clean_html, which strips every SVG element but <svg>
    # (blank charts) and inline styles. These notebooks are our own output: keep them as they are.
    # report.html.j2 (next to this file) extends JupyterLab's template: no scripts loaded from this
    # machine's system paths (one file that renders offline elsewhere), print rules, image captions.
    exporter = HTMLExporter(
        template_name="lab",
        template_file="report.html.j2",
        extra_template_paths=[os.path.join(os.path.dirname(os.path.abspath(__file__)), "report-template")],
        filters={"clean_html": lambda s: s},
        exclude_input=no_input,
        exclude_input_prompt=no_input,
        exclude_output_prompt=no_input,
    )
    metrics = collect_metrics(nb)
    details = ", ".join(str(v) for v in ((provenance or {}).get("profile") and f"profile {provenance['profile']}", metrics.get("data"), metrics.get("weights")) if v)
    title = f"{name} ({details})" if details else name
    body, _ = exporter.from_notebook_node(report_notebook(nb), resources={"metadata": {"name": title}})
    body = relative_paths(front_matter(body, provenance, metrics, seconds, details), provenance)
    with open(path, "w", encoding="utf-8") as f:
        f.write(body)


def export_reports(nb, html, name, provenance, seconds, no_code_html):
    export_html(nb, html, name, provenance, seconds)
    if no_code_html:
        export_html(nb, no_code_html, name, provenance, seconds, no_input=True)


def export_only(path, html, provenance=None, no_code_html=None):
    """Export an already executed notebook: its outputs as they are, the same summary line."""
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    summary = {"ok": not errors, "cells": len(code), "seconds": 0.0, "metrics": collect_metrics(nb), "exportOnly": True}
    if not any(c.get("outputs") for c in code):
        summary.update(ok=False, cell=None, error=f"{path} has no outputs: it was never executed. Run it first: npm run report -- {path}")
    elif errors:
        summary.update(ok=False, ename=errors[0].get("ename"), evalue=errors[0].get("evalue"), error="\n".join(errors[0].get("traceback", [])))
    export_reports(nb, html, os.path.splitext(os.path.basename(path))[0], provenance, 0.0, no_code_html)
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
    ap.add_argument("--no-code-html", help="also write a report without the code cells' input here")
    ap.add_argument("--provenance", help="JSON: date, commit, command, profile, cpu, root, home, reports")
    args = ap.parse_args()
    provenance = json.loads(args.provenance) if args.provenance else None
    if args.export_only:
        if not args.html:
            ap.error("--export-only needs --html OUT.html")
        return export_only(args.input, args.html, provenance, args.no_code_html)
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
        name = os.path.splitext(os.path.basename(args.input))[0]
        export_reports(nb, args.html, name, provenance, summary["seconds"], args.no_code_html)
    print(json.dumps(summary))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
