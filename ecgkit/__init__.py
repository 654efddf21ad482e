"""ecgkit: realistic paper-ECG images with exact ground truth, a CPU digitizer and evaluation."""

__version__ = "0.1.0"
