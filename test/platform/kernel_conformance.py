"""Jupyter's standard kernel conformance suite (jupyter_kernel_test) against the project kernel.

Run by test/platform/kernel.test.ts with JUPYTER_PATH pointing at the project's kernelspec.
Checks tslab is known to fail are marked expectedFailure with the reason, so a fix upstream
shows up as an "unexpected success" instead of passing silently.
"""
import unittest

import jupyter_kernel_test
from kernel_session import KERNEL_NAME


class TslabKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = KERNEL_NAME
    language_name = "typescript"
    file_extension = ".ts"

    code_hello_world = 'console.log("hello, world")'
    code_stderr = 'console.error("some error")'
    code_display_data = [
        {"code": 'require("tslab").display.html("<b>hi</b>")', "mime": "text/html"},
        {"code": 'require("tslab").display.png(Buffer.from([137, 80, 78, 71]))', "mime": "image/png"},
    ]
    completion_samples = [{"text": "Math.ma", "matches": {"max"}}]
    complete_code_samples = ["1 + 1", "const a = 1;"]
    incomplete_code_samples = ["function f() {", "const a = ["]
    code_inspect_sample = "Math.max"

    # tslab's kernel_info_reply carries no "status" field (the messaging spec requires it).
    @unittest.expectedFailure
    def test_kernel_info(self):
        super().test_kernel_info()

    # tslab sends no `error` iopub message for a thrown exception (it writes the text to stderr);
    # the project's notebook runner turns that stderr into an error output itself.
    code_generate_error = 'throw new Error("oops")'

    @unittest.expectedFailure
    def test_error(self):
        super().test_error()

    # tslab prints a cell's last expression to stdout instead of sending `execute_result`.
    code_execute_result = [{"code": "6 * 7", "result": "42"}]

    @unittest.expectedFailure
    def test_execute_result(self):
        super().test_execute_result()


if __name__ == "__main__":
    unittest.main(verbosity=2)
