"""The factory-twin dashboard: ``twin dashboard [--runs DIR] [--port P]`` starts it.

Pages are thin scripts in ``views/`` (not ``pages/``, which Streamlit would run in its legacy
multipage mode); what they show comes from :mod:`dashboard.data` (plain functions over the
library), cached in :mod:`dashboard.cache`, drawn by :mod:`dashboard.charts`. The navigation
is one list: a new page is one more ``st.Page`` in it. An error on a page shows as a short
message with the traceback folded (:func:`dashboard.widgets.friendly_error`).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

PAGES = Path(__file__).parent / "views"

st.set_page_config(page_title="factory-twin", layout="wide")
navigation = st.navigation(
    [
        st.Page(PAGES / "overview.py", title="Overview", default=True),
        st.Page(PAGES / "scenarios.py", title="Scenarios", url_path="scenarios"),
        st.Page(PAGES / "editor.py", title="Editor", url_path="editor"),
        st.Page(PAGES / "whatif.py", title="What-if", url_path="what-if"),
        st.Page(PAGES / "compare.py", title="Compare", url_path="compare"),
        st.Page(PAGES / "studies.py", title="Studies", url_path="studies"),
        st.Page(PAGES / "runs.py", title="Runs", url_path="runs"),
        st.Page(PAGES / "run_detail.py", title="Run detail", url_path="run-detail"),
        st.Page(PAGES / "agents.py", title="Agents", url_path="agents"),
        st.Page(PAGES / "calibration.py", title="Calibration", url_path="calibration"),
        st.Page(PAGES / "live.py", title="Live floor", url_path="live"),
    ]
)
try:
    navigation.run()
except Exception as error:  # every page's errors end here: a message for people, not a traceback
    from dashboard.widgets import friendly_error

    friendly_error(error)
