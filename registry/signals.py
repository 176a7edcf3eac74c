"""What moves the public pages' cache version and writes the download files again
(registry.published): every write to what the public sees. Bulk writes that send no signals
(queryset.update, bulk_create, COPY) call registry.published.changed() themselves."""

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from registry import pagecache, published
from registry.models import Project, Track

# Submission states that count on /stats/ ("decisions per track").
DECISION_STATES = {"changes_requested", "approved", "rejected", "published"}


@receiver(post_save, sender=Project, dispatch_uid="pagecache-project-saved")
@receiver(post_delete, sender=Project, dispatch_uid="pagecache-project-deleted")
@receiver(post_save, sender=Track, dispatch_uid="pagecache-track-saved")
@receiver(post_delete, sender=Track, dispatch_uid="pagecache-track-deleted")
@receiver(m2m_changed, sender=Project.secondary_tracks.through, dispatch_uid="pagecache-secondary")
def public_data_changed(sender, **kwargs):
    published.changed()


@receiver(post_save, sender="review.Submission", dispatch_uid="pagecache-decision")
def decision_made(sender, instance, **kwargs):
    if instance.state in DECISION_STATES:
        pagecache.published_changed()  # /stats/ only: the downloads hold no decisions
