"""The Gradio web app: one module per tab, rendering, originals, the request guard and document management;
``ui.py`` at the top level and ``unionqa serve`` both start ``web.app``."""
