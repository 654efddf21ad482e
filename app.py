"""ecgkit web app: ``streamlit run app.py``.

The pages live in ``app_pages/``, not ``pages/``: Streamlit treats a ``pages/`` folder as an
old-style app of its own, and a page opened by its URL (``/digitize``) would then run without
this navigation (its menu showing file names).
"""

import streamlit as st

st.set_page_config(page_title="ecgkit", page_icon=":material/ecg:", layout="wide")
page = st.navigation(
    [
        st.Page("app_pages/generate.py", title="Generate", icon=":material/ecg:", default=True),
        st.Page("app_pages/digitize.py", title="Digitize", icon=":material/document_scanner:"),
        st.Page("app_pages/evaluate.py", title="Evaluate", icon=":material/monitoring:"),
    ]
)
page.run()
