"""ecgkit web app: ``streamlit run app.py``."""

import streamlit as st

st.set_page_config(page_title="ecgkit", page_icon=":material/ecg:", layout="wide")
page = st.navigation(
    [
        st.Page("pages/generate.py", title="Generate", icon=":material/ecg:", default=True),
        st.Page("pages/digitize.py", title="Digitize", icon=":material/document_scanner:"),
        st.Page("pages/evaluate.py", title="Evaluate", icon=":material/monitoring:"),
    ]
)
page.run()
