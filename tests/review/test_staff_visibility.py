"""Staff see what their role needs and no more (issue 15): a founder's draft is theirs until
it is submitted; nobody conflicted with a project reads its internal details."""

import pytest
from django.conf import settings

from review import audit, workflow
from review.models import Conflict, Submission
from tests.base import make_project, make_submission, make_user
from tests.review.workflow_builders import make_editor, make_reviewer

pytestmark = pytest.mark.django_db
SECRET = "SECRET-DRAFT-TEXT"
ADMIN = f"/{settings.ADMIN_URL}"


def client_for(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize("who", ["reviewer", "editor", "superuser"])
def test_a_draft_is_the_founders_until_submitted(client, who):
    founder = make_user("founder")
    staff = {
        "reviewer": make_reviewer,
        "editor": make_editor,
        "superuser": lambda: make_user("root", is_staff=True, is_superuser=True),
    }[who]()
    draft = make_submission(founder, state=Submission.State.DRAFT, name=SECRET)
    client_for(client, staff)
    listing = client.get(f"{ADMIN}review/submission/")
    assert listing.status_code == 200 and SECRET not in listing.text
    page = client.get(f"{ADMIN}review/submission/{draft.pk}/change/")
    assert page.status_code in (302, 404) and SECRET not in page.content.decode()

    workflow.submit(draft, by=founder)
    assert SECRET in client.get(f"{ADMIN}review/submission/").text
    assert client.get(f"{ADMIN}review/submission/{draft.pk}/change/").status_code == 200


def test_internal_details_on_a_project_are_hidden_from_conflicted_staff(client):
    project = make_project(organization="Acme Robotics", name="Acme Map")
    audit.record(by=None, project=project, action="mail_failed", detail="INTERNAL-DETAIL smtp said no")
    conflicted, clear = make_editor(), make_editor()
    Conflict.objects.create(reviewer=conflicted, kind="employment", organization="Acme Robotics Co., Ltd.")
    url = f"{ADMIN}registry/project/{project.pk}/change/"

    seen = client_for(client, clear).get(url)
    assert seen.status_code == 200 and "INTERNAL-DETAIL" in seen.text

    hidden = client_for(client, conflicted).get(url)
    assert hidden.status_code == 200 and "INTERNAL-DETAIL" not in hidden.text
    assert "Acme Map" in hidden.text  # the listing itself stays readable
