"""ecgkit: realistic paper-ECG images with exact ground truth, a CPU digitizer and evaluation.

The three jobs are the packages :mod:`ecgkit.generate` (with :mod:`ecgkit.artifacts`),
:mod:`ecgkit.digitize` and :mod:`ecgkit.evaluate`; under them :mod:`ecgkit.io` (records) and
:mod:`ecgkit.geometry` (coordinates, maps); beside them :mod:`ecgkit.parallel` (one runner for
pools and Dask), :mod:`ecgkit.roundtrip`, :mod:`ecgkit.app` (what the pages call) and
:mod:`ecgkit.cli`.
"""

__version__ = "0.1.0"
