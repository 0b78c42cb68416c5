"""
Tables, result rows and figures that several parts of the package write: plain-text and Markdown
tables, the one row schema of compression results (language-model table, downstream sweep) with
its CSV / Markdown writers and its metric-vs-rank figure, and the compression summary.
"""
