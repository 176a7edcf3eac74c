"""Demo submissions: one in every workflow state, made through review.workflow itself.

Called by `manage.py seed_demo` after the demo projects and accounts exist. Running it
again adds nothing (each demo submission is recognised by its name and founder).
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from registry.listing import Status
from registry.models import Project, Track
from review import lifecycle, workflow
from review.models import Concern, LinkCheck, Review, Submission

State = Submission.State


class DemoContent:
    """Writes fixed demo content onto a submission (what the form does for a founder)."""

    def __init__(self, **fields):
        self.fields = fields

    def write_to(self, submission, *, save):
        for name, value in self.fields.items():
            setattr(submission, name, value)
        save(submission)


# (state reached, Chinese name, English name, track)
DEMO_SUBMISSIONS = [
    (State.DRAFT, "示例草稿", "Demo Draft", "agents"),
    (State.SUBMITTED, "示例待审", "Demo Submitted", "education"),
    (State.IN_REVIEW, "示例审核中", "Demo In Review", "healthcare"),
    (State.CHANGES_REQUESTED, "示例待修改", "Demo Changes Requested", "finance"),
    (State.APPROVED, "示例已通过", "Demo Approved", "video"),
    (State.REJECTED, "示例未通过", "Demo Rejected", "coding"),
    (State.WITHDRAWN, "示例已撤回", "Demo Withdrawn", "productivity"),
    (State.PUBLISHED, "示例已发布", "Demo Published", "voice-audio"),
]
SCORES = {"authenticity": 4, "innovation": 3, "completeness": 4}


def _review(submission, reviewer, recommendation, comment):
    workflow.record_review(
        submission, by=reviewer, recommendation=recommendation, comment=comment,
        internal_note="Demo internal note: never shown to the founder.", **SCORES,
    )  # fmt: skip


@transaction.atomic
def seed_submissions():
    """Returns (created, already there)."""
    User = get_user_model()
    people = {
        user.username: user for user in User.objects.filter(username__in=["founder", "reviewer", "editor"])
    }
    if len(people) < 3:
        return 0, 0
    founder, reviewer, editor = people["founder"], people["reviewer"], people["editor"]
    created = 0
    for state, name, name_en, track_slug in DEMO_SUBMISSIONS:
        if Submission.objects.filter(owner=founder, name=name).exists():
            continue
        content = DemoContent(
            name=name,
            name_en=name_en,
            tagline="演示数据：展示审核流程中的一个状态",
            description=f"{name}（{name_en}）是演示数据。\n\nThis submission is demo data for the review workflow.",
            track=Track.objects.get(slug=track_slug),
            website=f"https://{name_en.lower().replace(' ', '-')}.example/",
            organization="示例科技 (Demo)",
            hq_city="杭州",
            hq_country="CN",
            language="zh-hans",
        )
        submission = workflow.create(by=founder, content=content)
        created += 1
        if state == State.DRAFT:
            continue
        workflow.submit(submission, by=founder)
        if state == State.WITHDRAWN:
            workflow.withdraw(submission, by=founder, reason="演示：创始人撤回了提交。")
            continue
        if state == State.SUBMITTED:
            continue
        workflow.start_review(submission, by=reviewer)
        if state == State.IN_REVIEW:
            continue
        if state == State.CHANGES_REQUESTED:
            _review(submission, reviewer, Review.Recommendation.REQUEST_CHANGES, "请补充产品网站和团队信息。")
            workflow.request_changes(submission, by=reviewer, comment="请补充后重新提交。")
            continue
        if state == State.REJECTED:
            _review(submission, reviewer, Review.Recommendation.REJECT, "无法核实该项目的真实性。")
            workflow.reject(submission, by=reviewer, reason="信息无法核实。")
            continue
        _review(submission, reviewer, Review.Recommendation.APPROVE, "信息完整，可以收录。")
        workflow.approve(submission, by=editor)  # a self-assigned reviewer never approves alone (0019)
        if state == State.PUBLISHED:
            workflow.publish(submission, by=editor)
    return created, len(DEMO_SUBMISSIONS) - created


DEMO_REPORTS = [
    (Concern.Kind.CLOSED, "演示：官网显示已停止服务。(Demo: the website says the service has ended.)"),
    (Concern.Kind.BROKEN_LINK, "Demo: the website link leads nowhere."),
]


def seed_concerns():
    """A few entries in the editors' "maybe gone" queue: visitors' reports and one link alert
    (the demo's websites are fictional and never checked). Returns how many were added."""
    if Concern.objects.exists():
        return 0
    candidates = list(
        Project.objects.published()
        .filter(status=Status.ACTIVE, slug__regex=r"-\d{4,}$")
        .exclude(website="")
        .order_by("slug")[: len(DEMO_REPORTS) + 1]
    )
    if len(candidates) <= len(DEMO_REPORTS):
        return 0
    for project, (kind, message) in zip(candidates, DEMO_REPORTS, strict=False):
        lifecycle.report_problem(project, kind=kind, message=message)
    alerted = candidates[len(DEMO_REPORTS)]
    since = timezone.now() - timedelta(days=10)
    LinkCheck.objects.create(
        project=alerted, url=alerted.website, checked_at=timezone.now() - timedelta(hours=3), ok=False,
        error="cannot resolve host", failures=4, failing_since=since,
    )  # fmt: skip
    lifecycle.raise_link_alert(alerted.pk, error="cannot resolve host")
    return len(DEMO_REPORTS) + 1
