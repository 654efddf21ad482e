"""What the web pages call: one module per page, pure Python, no Streamlit import.

Each page in ``app_pages/`` is widgets, one call into here, and a plot; keeping the work here makes
it testable without a browser and usable from a notebook.
"""
