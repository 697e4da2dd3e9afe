# Config for `npm run notebook` (classic Notebook 6): each kernel learns which notebook it runs,
# as jupyter_server 2 tells its kernels, through JPY_SESSION_NAME (the notebook's path). The
# library derives a notebook's run folder (checkpoints, CSV logs) from it, so a copy of a
# notebook never overwrites the original's checkpoints. And a notebook edited in the browser is
# signed as it is written, so it reopens trusted with its charts (see the contents manager below).
import copy
import os

from nbformat.corpus.words import generate_corpus_id
from notebook.services.contents.largefilemanager import LargeFileManager
from notebook.services.sessions.sessionmanager import SessionManager
from notebook.utils import maybe_future
from tornado import gen


class SessionNameSessionManager(SessionManager):
    @gen.coroutine
    def start_kernel_for_session(self, session_id, path, name, type, kernel_name):
        kernel_path = self.contents_manager.get_kernel_path(path=path)
        env = dict(os.environ, JPY_SESSION_NAME=path or name or "")
        # Notebook 6.4's start_kernel is `async def`: notebook.utils.maybe_future wraps the
        # coroutine in an asyncio task that this yield awaits (as SessionManager itself does).
        # tornado's gen.maybe_future passes a coroutine through un-awaited, so the session row got
        # a coroutine for a kernel id and POST /api/sessions (every notebook the UI opens) failed.
        kernel_id = yield maybe_future(
            self.kernel_manager.start_kernel(path=kernel_path, kernel_name=kernel_name, env=env)
        )
        raise gen.Return(kernel_id)


class SignWhatIsWrittenContentsManager(LargeFileManager):
    """Sign the notebook exactly as it is written, so an edited notebook reopens trusted.

    The Notebook 6.4 page gives a cell it inserts (or pastes) no id, or a copied one. The server
    signs the notebook it received (check_and_sign), then nbformat.write gives such cells fresh ids
    (nbformat >= 4.5 requires unique ids) and the file no longer matches its signature: the
    notebook reopens "Not Trusted" with every chart (SVG, HTML) hidden. The ids are given here,
    before the signature, with nbformat's own generator.
    """

    def check_and_sign(self, nb, path=""):
        if (nb.get("nbformat"), nb.get("nbformat_minor", 0)) >= (4, 5):
            seen = set()
            for cell in nb.get("cells", []):
                if not cell.get("id") or cell["id"] in seen:
                    cell["id"] = generate_corpus_id()
                seen.add(cell["id"])
        super().check_and_sign(nb, path)

    def mark_trusted_cells(self, nb, path=""):
        """A notebook without rich outputs (as the tutorials are committed) opens trusted.

        Notebook 6.4 marks every unsigned notebook "Not Trusted", also one with nothing to hide;
        Jupyter's own rule for saving (check_cells) trusts a cell with no rich output, and the
        same rule is applied here on opening. A notebook with unsigned rich outputs stays untrusted.
        """
        if self.notary.check_signature(nb) or self.notary.check_cells(copy.deepcopy(nb)):
            self.notary.mark_cells(nb, True)
        else:
            super().mark_trusted_cells(nb, path)


c = get_config()  # noqa: F821 (provided by Jupyter when it loads this file)
c.NotebookApp.session_manager_class = SessionNameSessionManager
c.NotebookApp.contents_manager_class = SignWhatIsWrittenContentsManager
