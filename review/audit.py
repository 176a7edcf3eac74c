"""The audit trail's one door: every Event row is written here and nowhere else.

The review functions call it inside their own transaction, next to the change they record:
review.workflow (submissions' transitions, unpublish and republish, assignments),
review.listings (featuring, editors' additions and edits in the admin), review.importing
(the long list, through `record_all`) and review.mailqueue (an email that did not go).
A test (tests/review/test_audit_trail.py) fails when another module creates an Event.

Every entry is also a line on the "aimap.workflow" log (aimap.logs formats it).
"""

import logging
from collections import Counter

from review.models import Event

logger = logging.getLogger("aimap.workflow")


def entry(
    *,
    by,
    action,
    submission=None,
    project=None,
    from_state="",
    to_state="",
    note="",
    detail="",
    changed_fields=(),
):
    """An unsaved Event: `by` did `action` to `submission` and/or `project`.

    `note` is for the founder (on a submission's timeline), `detail` for staff only,
    `changed_fields` the names of the listing fields the action changed."""
    return Event(
        submission=submission,
        project=project,
        actor=by,
        action=action,
        from_state=from_state,
        to_state=to_state,
        note=note,
        detail=detail,
        changed_fields=list(changed_fields),
    )


def record(**fields):
    """Write one Event (the arguments of `entry`) and log it; returns the Event."""
    event = entry(**fields)
    logger.info(
        "%s: %s -> %s",
        event.action,
        event.from_state or "-",
        event.to_state or "-",
        extra={
            "action": event.action,
            "submission": event.submission_id,
            "project": event.project_id,
            "actor": event.actor_id,
            "from_state": event.from_state,
            "to_state": event.to_state,
            "changed_fields": ",".join(event.changed_fields),
        },
    )
    event.save()
    return event


def record_all(events, *, batch_size=1000):
    """Write many Events made by `entry` at once (an import's thousands of rows); one log
    line sums them up by action."""
    events = list(events)
    Event.objects.bulk_create(events, batch_size=batch_size)
    if events:
        counts = Counter(event.action for event in events)
        logger.info(
            "%s events: %s",
            len(events),
            ", ".join(f"{action} {count}" for action, count in sorted(counts.items())),
            extra={"action": "bulk", "events": len(events), "actor": events[0].actor_id},
        )
    return events
