"""A stand-in for the digitizer core built from a generated page's ground truth.

For tests of the layers around :func:`ecgkit.digitize.digitize` (overlay, UI helpers) that must
not depend on how well the core reads: the "digitized" result is the page's own truth.
"""

from __future__ import annotations

import numpy as np

from ecgkit.digitize.pipeline import Digitized, LeadResult
from ecgkit.digitize.rectify import GridInfo
from ecgkit.generate.render import Page
from ecgkit.io import LEADS, Record


def digitized_from_page(page: Page, *, name: str = "digitized") -> Digitized:
    """A :class:`Digitized` whose record, boxes and traces are ``page``'s ground truth."""
    truth = page.plotted_record()
    leads = []
    for lt in page.leads:
        box = lt.bbox or (0.0, 0.0, float(page.width - 1), float(page.height - 1))
        t0 = lt.start_sample / truth.fs - page.layout.start
        leads.append(
            LeadResult(
                lt.lead,
                box,
                lt.x.copy(),
                lt.y.copy(),
                lt.baseline_y,
                t0,
                0.9 if lt.lead != "V3" else 0.3,
                lt.rhythm,
            )
        )
    confidence = {lead: 0.9 for lead in LEADS}
    confidence["V3"] = 0.3
    record = Record(truth.signals.copy(), truth.fs, name=name)
    grid = GridInfo(found=True, scale_measured=True, period_px=(page.px_per_mm, page.px_per_mm))
    return Digitized(
        record=record,
        confidence=confidence,
        rectified=page.image.copy(),
        homography=np.eye(3),
        px_per_mm=page.px_per_mm,
        layout=page.layout.name,
        leads=leads,
        grid=grid,
        notes=["fake digitizer: the page's ground truth"],
        seconds=0.01,
    )
