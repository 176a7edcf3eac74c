"""The association's decisions on submissions, per track: the decisions table of /stats/."""

from dataclasses import dataclass

from django.db.models import Count

from registry.models import Track
from review.models import Submission


@dataclass
class DecisionRow:
    track: Track | None
    approved: int = 0
    changes_requested: int = 0
    rejected: int = 0

    @property
    def total(self):
        return self.approved + self.changes_requested + self.rejected


def decisions_per_track(tracks):
    """Submissions per track by their decision so far: approved (published or about to be),
    changes requested, rejected. One query; submissions without a decision are not counted."""
    State = Submission.State
    column = {
        State.APPROVED: "approved",
        State.PUBLISHED: "approved",
        State.CHANGES_REQUESTED: "changes_requested",
        State.REJECTED: "rejected",
    }
    counts = (
        Submission.objects.order_by()
        .filter(state__in=list(column), track__isnull=False)
        .values_list("track", "state")
        .annotate(n=Count("pk"))
    )
    rows = {track.pk: DecisionRow(track) for track in tracks}
    for track_id, state, n in counts:
        if track_id in rows:
            setattr(rows[track_id], column[state], getattr(rows[track_id], column[state]) + n)
    total = DecisionRow(None)
    for row in rows.values():
        total.approved += row.approved
        total.changes_requested += row.changes_requested
        total.rejected += row.rejected
    return list(rows.values()), total
