"""Records in and out: the :class:`Record` type, WFDB, CSV, discovery and web uploads.

The bottom layer: every other part of ecgkit reads and writes records through these names.
"""

from ecgkit.io.csv import check_fs, read_csv, write_csv
from ecgkit.io.files import find_records, read_record
from ecgkit.io.record import LEADS, Record, map_channels, normalize_lead_name
from ecgkit.io.uploads import records_from_uploads
from ecgkit.io.wfdb import parse_header_comments, read_wfdb, write_wfdb

__all__ = [
    "LEADS",
    "Record",
    "check_fs",
    "find_records",
    "map_channels",
    "normalize_lead_name",
    "parse_header_comments",
    "read_csv",
    "read_record",
    "read_wfdb",
    "records_from_uploads",
    "write_csv",
    "write_wfdb",
]
