"""A claim reveals nothing of the listing and changes nothing of it (issue 15): it copies
no contact fields; sent back for changes, the claimant edits the evidence and nothing else."""

import pytest
from django.urls import reverse

from review import workflow
from review.models import Submission
from tests.base import make_project
from tests.review.workflow_builders import make_editor, make_reviewer, review

pytestmark = pytest.mark.django_db
EN = {"accept-language": "en"}
HIDDEN = "private-ceo@hidden.example"


def sent_back(founder, **listing):
    project = make_project(
        listed_by="editors", name="Hidden Contact", contact_email=HIDDEN, show_contact_email=False, **listing
    )
    claim = workflow.claim(project, by=founder, evidence="I run it.")
    editor, reviewer = make_editor(), make_reviewer()
    workflow.assign(claim, by=editor, reviewer=reviewer)
    review(claim, reviewer, recommendation="request_changes")
    return project, workflow.request_changes(claim, by=editor, comment="Show us a company email.")


def test_a_claim_copies_no_contact_address(founder):
    project = make_project(listed_by="editors", contact_email=HIDDEN, show_contact_email=False)
    claim = workflow.claim(project, by=founder, evidence="I run it.")
    assert (claim.contact_email, claim.show_contact_email) == ("", False)
    assert claim.name == project.name  # the rest is the listing as it is


def test_the_claimant_sees_and_edits_only_the_evidence(founder, founder_client):
    _project, claim = sent_back(founder, hq_city="", hq_country="")
    url = reverse("review:submission-edit", args=[claim.pk])
    page = founder_client.get(url, headers=EN)
    assert page.status_code == 200
    assert HIDDEN not in page.text
    assert 'name="claim_evidence"' in page.text and 'name="name"' not in page.text
    assert HIDDEN not in founder_client.get(claim.get_absolute_url(), headers=EN).text

    response = founder_client.post(
        url,
        {"claim_evidence": "Write to me at ceo@hidden.example.", "version": claim.version,
         "name": "Taken Over", "contact_email": "me@evil.example"},
    )  # fmt: skip
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.state == Submission.State.SUBMITTED  # sent again, though city and country are unknown
    assert claim.claim_evidence == "Write to me at ceo@hidden.example."
    assert (claim.name, claim.contact_email) == ("Hidden Contact", "")


def test_empty_evidence_or_a_stale_version_is_refused_on_the_form(founder, founder_client):
    _project, claim = sent_back(founder)
    url = reverse("review:submission-edit", args=[claim.pk])
    empty = founder_client.post(url, {"claim_evidence": "  ", "version": claim.version}, headers=EN)
    assert empty.status_code == 200 and "claim_evidence" in empty.context["form"].errors
    stale = founder_client.post(url, {"claim_evidence": "More.", "version": claim.version - 1}, headers=EN)
    assert stale.status_code == 200 and stale.context["form"].non_field_errors()
    claim.refresh_from_db()
    assert claim.state == Submission.State.CHANGES_REQUESTED and claim.claim_evidence == "I run it."
