from django.utils.functional import SimpleLazyObject

from review.models import Submission


def claims(request):
    """The slugs of the listings the signed-in founder has a claim under review for, read only
    when a page asks (a project page says "your claim is under review" instead of offering
    the claim again). Anonymous visitors have none: their pages stay the same for everyone."""

    def under_review():
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return frozenset()
        return frozenset(
            Submission.objects.open()
            .filter(owner=user, kind=Submission.Kind.CLAIM)
            .values_list("project__slug", flat=True)
        )

    return {"claims_under_review": SimpleLazyObject(under_review)}
