"""Scanning files into a survey: `inputs` turns paths into described files and page tasks,
`workers` reads pages (omr) in worker processes, `cluster` on a Dask cluster instead,
`recorder` writes each page's reading to the store in one transaction, and `driver.scan`
runs them in that order and returns a `ScanSummary`. `templates` prepares the forms for
the reader (blank pages rendered, templates precomputed) and for the recorder.
"""
from pipeline.scan.cluster import ClusterError, cluster_results
from pipeline.scan.driver import ScanEvent, ScanInterrupted, ScanSummary, scan, summary_lines

__all__ = [
    "ClusterError",
    "ScanEvent",
    "ScanInterrupted",
    "ScanSummary",
    "cluster_results",
    "scan",
    "summary_lines",
]
