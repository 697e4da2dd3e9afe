# Config for `npm run notebook` (classic Notebook 6): each kernel learns which notebook it runs,
# as jupyter_server 2 tells its kernels, through JPY_SESSION_NAME (the notebook's path). The
# library derives a notebook's run folder (checkpoints, CSV logs) from it, so a copy of a
# notebook never overwrites the original's checkpoints.
import os

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


c = get_config()  # noqa: F821 (provided by Jupyter when it loads this file)
c.NotebookApp.session_manager_class = SessionNameSessionManager
