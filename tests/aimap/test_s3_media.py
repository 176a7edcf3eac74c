"""MEDIA_STORAGE=s3 end to end, against a local S3 server (moto's, on 127.0.0.1).

The storage is built by aimap.settings.media_storage from the S3_* variables, as in a
deployment; logos go through the site's own code (the founder's form, registry.images), and
what lands in the bucket is checked with a separate boto3 client and plain HTTP.
Nothing leaves 127.0.0.1: every other connection fails the test.
"""

import io
import json
import os
import socket
import urllib.request
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError
from django.core.files.storage import default_storage, storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from storages.backends.s3 import S3Storage

from aimap.settings import media_storage
from registry.images import delete_logo, save_logo, thumbnail_name
from review.models import Submission
from tests.base import make_project
from tests.imagefiles import encoded

pytestmark = pytest.mark.django_db

REGION = "eu-central-1"
KEYS = {"aws_access_key_id": "aimap-test-key", "aws_secret_access_key": "aimap-test-secret"}


@pytest.fixture(scope="module")
def s3_endpoint():
    """moto's S3 in this process (so one per xdist worker), on a port the system picks."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def refuse_other_addresses(monkeypatch):
    """Any connection to an address other than 127.0.0.1 fails the test (the instance
    metadata service, AWS itself, a proxy), before a packet is sent."""
    connect = socket.socket.connect

    def guarded(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in ("127.0.0.1", "::1"):
            pytest.fail(f"a connection to {address} would leave 127.0.0.1")
        return connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture
def loopback_only(monkeypatch):
    refuse_other_addresses(monkeypatch)


@pytest.fixture
def bucket(s3_endpoint, loopback_only, monkeypatch, settings):
    """A new bucket, and the site's default storage configured for it as production is."""
    name = f"aimap-media-{uuid.uuid4().hex[:12]}"
    for key, value in {
        "AWS_EC2_METADATA_DISABLED": "true",  # boto3 never asks 169.254.169.254 for keys
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "NO_PROXY": "127.0.0.1,localhost",
        "S3_BUCKET": name,
        "S3_ENDPOINT_URL": s3_endpoint,
        "S3_REGION": REGION,
        "S3_ACCESS_KEY_ID": KEYS["aws_access_key_id"],
        "S3_SECRET_ACCESS_KEY": KEYS["aws_secret_access_key"],
    }.items():
        monkeypatch.setenv(key, value)
    for key in ("S3_CUSTOM_DOMAIN", "AWS_PROFILE", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(key, raising=False)
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION, **KEYS)
    client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    client.put_bucket_policy(Bucket=name, Policy=json.dumps(public_read_policy(name)))
    settings.STORAGES = {**settings.STORAGES, "default": media_storage("s3")}
    client.bucket = name
    return client


def public_read_policy(bucket_name):
    """Anyone may read the objects, as docs/deployment.md asks of the media bucket: the site's
    logo URLs carry no signature (querystring_auth off)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket_name}/*",
            }
        ],
    }


def stored(bucket, key):
    """The object's bytes as the bucket holds them, or None when there is no such object."""
    try:
        bucket.head_object(Bucket=bucket.bucket, Key=key)
    except ClientError as error:
        assert error.response["Error"]["Code"] == "404"
        return None
    return bucket.get_object(Bucket=bucket.bucket, Key=key)["Body"].read()


def fetch(url):
    """GET `url` with plain HTTP (no AWS signature, no proxy), as a browser would."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as response:
        assert response.status == 200
        return response.read()


def logo_upload(colour):
    return SimpleUploadedFile(
        "logo.png", encoded(Image.new("RGB", (96, 96), colour)), content_type="image/png"
    )


def webp_size(data):
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "WEBP"
        return image.size


def test_the_settings_build_django_storages_s3_backend_for_the_bucket(bucket, s3_endpoint):
    storage = storages["default"]
    assert isinstance(storage, S3Storage)
    assert storage.bucket_name == bucket.bucket
    assert storage.endpoint_url == s3_endpoint
    assert storage.region_name == REGION
    assert storage.querystring_auth is False and storage.file_overwrite is False


def test_registry_images_saves_reads_serves_and_deletes_a_logo_in_the_bucket(bucket, s3_endpoint):
    name = save_logo(logo_upload("red"))
    assert name.startswith("logos/") and name.endswith(".webp")

    logo, thumbnail = stored(bucket, name), stored(bucket, thumbnail_name(name))
    assert webp_size(logo) == (96, 96) and webp_size(thumbnail) == (96, 96)  # never enlarged
    with default_storage.open(name) as handle:
        assert handle.read() == logo
    assert default_storage.exists(name) and default_storage.size(name) == len(logo)

    url = default_storage.url(name)
    assert url == f"{s3_endpoint}/{bucket.bucket}/{name}"  # public: no signature in it
    assert fetch(url) == logo
    assert fetch(default_storage.url(thumbnail_name(name))) == thumbnail

    delete_logo(name)
    assert stored(bucket, name) is None and stored(bucket, thumbnail_name(name)) is None
    assert not default_storage.exists(name)


def test_a_stored_name_is_never_overwritten(bucket):
    first = default_storage.save("logos/same.webp", SimpleUploadedFile("a", b"first"))
    second = default_storage.save("logos/same.webp", SimpleUploadedFile("b", b"second"))
    assert first == "logos/same.webp" and second != first
    assert stored(bucket, first) == b"first" and stored(bucket, second) == b"second"


def test_a_founders_logo_goes_to_the_bucket_and_a_replaced_one_leaves_it(
    bucket, founder_client, django_capture_on_commit_callbacks
):
    def save_draft(**data):
        draft = Submission.objects.filter(name="S3 logo").first()
        url = (
            reverse("review:submission-edit", args=[draft.pk]) if draft else reverse("review:submission-new")
        )
        payload = {
            "name": "S3 logo",
            "action": "save",
            **({"version": draft.version} if draft else {}),
            **data,
        }
        with django_capture_on_commit_callbacks(execute=True):
            response = founder_client.post(url, payload)
        assert response.status_code == 302
        return Submission.objects.get(name="S3 logo")

    first = save_draft(logo=logo_upload("green")).logo
    assert stored(bucket, first.name) is not None and stored(bucket, thumbnail_name(first.name)) is not None
    assert fetch(first.url) == stored(bucket, first.name)

    second = save_draft(logo=logo_upload("blue")).logo
    assert second.name != first.name
    assert stored(bucket, first.name) is None and stored(bucket, thumbnail_name(first.name)) is None
    with second.open() as handle:
        assert handle.read() == stored(bucket, second.name)

    assert save_draft(**{"logo-clear": "on"}).logo.name == ""
    assert stored(bucket, second.name) is None and stored(bucket, thumbnail_name(second.name)) is None


def test_the_api_gives_a_logo_url_that_serves_the_stored_logo(bucket, client, s3_endpoint):
    name = save_logo(logo_upload("purple"))
    project = make_project(logo=name)

    record = client.get(reverse("registry:api-project", args=[project.slug])).json()
    assert record["logo_url"] == f"{s3_endpoint}/{bucket.bucket}/{name}"
    assert fetch(record["logo_url"]) == stored(bucket, name)
    listed = client.get(reverse("registry:api-projects")).json()["results"]
    assert [item["logo_url"] for item in listed if item["slug"] == project.slug] == [record["logo_url"]]
    assert fetch(project.logo_thumbnail_url) == stored(bucket, thumbnail_name(name))


def test_a_custom_domain_serves_the_logos(bucket, monkeypatch, settings):
    monkeypatch.setenv("S3_CUSTOM_DOMAIN", "media.map.example.org")
    settings.STORAGES = {**settings.STORAGES, "default": media_storage("s3")}
    name = save_logo(logo_upload("orange"))
    assert default_storage.url(name) == f"https://media.map.example.org/{name}"
    assert stored(bucket, name) is not None  # still stored in the bucket itself


def test_the_guard_stops_a_connection_to_any_other_address(monkeypatch):
    attempts = []
    monkeypatch.setattr(socket.socket, "connect", lambda sock, address: attempts.append(address))
    refuse_other_addresses(monkeypatch)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        with pytest.raises(pytest.fail.Exception, match=r"169\.254\.169\.254"):
            sock.connect(("169.254.169.254", 80))
        sock.connect(("127.0.0.1", 9))
    assert attempts == [("127.0.0.1", 9)]  # only the loopback one reached the socket


def test_the_download_files_live_in_the_bucket_and_the_download_redirects_there(
    bucket, client, settings, django_capture_on_commit_callbacks
):
    """registry.downloadfiles on object storage: written to the bucket, the download a redirect
    to the object (which the storage serves, with its own validators), replaced files deleted."""
    from registry.models import DownloadFile

    settings.SITE_URL = "http://testserver"
    with django_capture_on_commit_callbacks(execute=True):
        make_project(name="灵犀客服 on S3")
    first = DownloadFile.objects.get(format="csv")
    assert stored(bucket, first.name) is not None and stored(bucket, first.gzip_name) is not None

    response = client.get("/data/projects.csv")
    assert response.status_code == 302
    data = fetch(response["Location"])
    assert data == stored(bucket, first.name) and "灵犀客服 on S3" in data.decode("utf-8")
    settings.DOWNLOAD_FILES = False
    assert data == b"".join(client.get("/data/projects.csv").streaming_content)  # the streamed bytes
    settings.DOWNLOAD_FILES = True

    with django_capture_on_commit_callbacks(execute=True):
        make_project(name="Second on S3")
    assert DownloadFile.objects.get(format="csv").rows == 2
    assert "Second on S3" in fetch(client.get("/data/projects.csv")["Location"]).decode("utf-8")
    assert stored(bucket, first.name) is None and stored(bucket, first.gzip_name) is None
