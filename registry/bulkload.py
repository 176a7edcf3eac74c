"""Loading many new projects into PostgreSQL fast: `load()`, the one entry point.

`manage.py seed_demo --projects 100000` needs 100,000 wide rows in well under a minute on
two cores. A plain bulk_create (what registry/demo.py does on SQLite) would take several
times as long; `load()` inserts the same rows, with the same ids in the same order, by:

* reserving every id at once from the table's own sequence (the ones an insert would have
  taken, in order), so later rows can be built while earlier ones travel;
* building plain tuples (CopyRows: the values saving a Project would write, without model
  instances) in chunks of CHUNK_SIZE, and streaming them through binary COPY, projects and
  secondary tracks alike, one transaction per batch;
* over LARGE_LOAD new rows: building the chunks in WORKERS forked processes, dropping the
  search index and no longer keeping the public counts (registry/counts.py) meanwhile, then
  building both afresh at the end, at the same time on two connections.

tests/registry/test_demo.py pins that this gives exactly the rows of the plain path.
"""

import collections
import functools
import itertools
import multiprocessing
import operator
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager

from django.db import connection, transaction
from django.utils import timezone

from registry import counts
from registry.fields import MultiChoiceField
from registry.models import Project, PublicCount, PublicCountState
from registry.search import CREATE_INDEX_SQL, DROP_INDEX_SQL, INDEX_NAME

LARGE_LOAD = 10_000  # more new projects than this: worker processes, indexes and counts made at the end
INDEX_MEMORY = "256MB"  # maintenance_work_mem for building the search index
WORKERS = 2  # processes building the rows of a large load (one per core)
CHUNK_SIZE = 250  # rows built at a time


class Phases:
    """Seconds spent per named phase of a load (for `seed_demo --verbosity 2`)."""

    def __init__(self):
        self.seconds = {}

    @contextmanager
    def __call__(self, name):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - start)

    def add(self, name, seconds):
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds


def load(batches, build, *, phases=None):
    """Insert new projects into PostgreSQL; returns the number of secondary-track links added.

    `batches` is a list of lists of keys (the demo's project numbers); each batch is one
    transaction, so an interrupted load leaves whole batches. Rows are inserted in the order
    of the keys and take consecutive ids from the table's sequence, as bulk_create would.
    `build(key)` returns `(fields, secondary_track_ids)`: the values of one project as
    Project(**fields) takes them (track_id and owner_id included; no id, no timestamps, no
    search tokens: those are filled in here) and the ids of its secondary tracks. It must be
    picklable (a module-level function, or a functools.partial of one), since a large load
    calls it in worker processes.

    Calling it with nothing to insert still puts back the search index if a large load that
    was killed left it out. Times go to `phases` (a Phases).
    """
    phases = phases or Phases()
    total = sum(len(keys) for keys in batches)
    large = total > LARGE_LOAD
    counted = _before_large_load() if large else None
    try:
        if total:
            return _insert(batches, build, phases, large)
        return 0
    finally:
        if large:
            _after_large_load(counted, phases)
        else:
            with connection.cursor() as cursor:
                cursor.execute("SELECT to_regclass(%s)", [INDEX_NAME])
                if cursor.fetchone()[0] is None:
                    cursor.execute(CREATE_INDEX_SQL)


def _insert(batches, build, phases, large):
    with connection.cursor() as cursor:
        ids = iter(_next_ids(cursor, Project, sum(len(keys) for keys in batches)))
    chunked = []  # per batch, its chunks of (id, key)
    for keys in batches:
        pairs = [(next(ids), key) for key in keys]
        chunked.append([pairs[start : start + CHUNK_SIZE] for start in range(0, len(pairs), CHUNK_SIZE)])
    build_chunk = functools.partial(build_rows, build, timezone.now())
    pool = row_builders() if large else None
    links = 0
    try:
        built = built_in_order(build_chunk, [chunk for chunks in chunked for chunk in chunks], pool)
        for chunks in chunked:
            with phases("insert (COPY), in all"), transaction.atomic():
                links += copy_projects(itertools.islice(built, len(chunks)), phases)
    finally:
        if pool:
            pool.shutdown(cancel_futures=True)
    return links


# --- Rows --------------------------------------------------------------------


class _Fields(dict):
    """A project's field values, readable as attributes (what registry.search.document reads)."""

    __slots__ = ()

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class CopyRows:
    """Project rows as plain tuples for PostgreSQL's COPY, in the table's column order.

    The values are what saving a Project instance would write (each field's pre_save,
    then get_prep_value), without building 100,000 model instances:
    tests/registry/test_demo.py compares the two. The values given are plain strings,
    numbers, booleans and times, which get_prep_value leaves as they are, except for the
    choice, country and multi-choice fields: their few different values are converted once
    each.
    """

    def __init__(self, now):
        self.fields = list(Project._meta.concrete_fields)
        self.derived = [field for field in self.fields if hasattr(field, "derive")]
        self.now = now
        self.fetch = None  # made for the keys of the first row

    @staticmethod
    def columns():
        return [field.column for field in Project._meta.concrete_fields]

    def _prepare(self, keys):
        self.fetch = operator.itemgetter(*[field.attname for field in self.fields])
        self.constants = {}
        self.converted = []  # (column index, field, {value: converted})
        for index, field in enumerate(self.fields):
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                self.constants[field.attname] = self.now
            elif field.attname not in keys:  # a field not given: its default
                self.constants[field.attname] = field.get_prep_value(field.get_default())
            elif isinstance(field, MultiChoiceField) or field.choices:
                self.converted.append((index, field, {}))

    def row(self, pk, values):
        fields = _Fields(values)
        fields["id"] = pk
        for field in self.derived:  # search tokens, the name's key: what pre_save works out
            fields[field.attname] = field.derive(fields)
        if self.fetch is None:
            self._prepare(fields.keys())
        fields.update(self.constants)
        row = list(self.fetch(fields))
        for index, field, cache in self.converted:
            value = row[index]
            key = tuple(value) if value.__class__ is list else value
            try:
                row[index] = cache[key]
            except KeyError:
                row[index] = cache[key] = field.get_prep_value(value)
        return row


def build_rows(build, now, pairs):
    """The COPY rows and secondary-track links of the projects (id, key) in `pairs`, and the
    seconds it took (in whichever process runs it)."""
    start = time.perf_counter()
    maker = CopyRows(now)
    rows, links = [], []
    for pk, key in pairs:
        values, secondary = build(key)
        links.extend([(pk, track_id) for track_id in secondary])
        rows.append(maker.row(pk, values))
    return rows, links, time.perf_counter() - start


def _copy(cursor, table, columns, rows):
    """COPY `rows` into `table` in the binary format: less work on both sides than text."""
    cursor.execute(
        "SELECT attname, format_type(atttypid, NULL) FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
        [table],
    )
    types = dict(cursor.fetchall())
    quote = connection.ops.quote_name
    sql = f"COPY {quote(table)} ({', '.join(quote(column) for column in columns)}) FROM STDIN (FORMAT BINARY)"
    with cursor.cursor.copy(sql) as copy:
        copy.set_types([types[column] for column in columns])
        for row in rows:
            copy.write_row(row)


def _next_ids(cursor, model, count):
    """`count` ids from the table's own sequence, in order (what an insert would have taken)."""
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
        [model._meta.db_table, model._meta.pk.column, count],
    )
    return sorted(pk for (pk,) in cursor.fetchall())


def copy_projects(built, phases):
    """Insert one batch of projects and their secondary tracks with COPY: about three times
    as fast as bulk_create for 100,000 wide rows. `built` yields the batch's chunks from
    build_rows, each as it is ready, so the rows of the next chunks are built while these
    travel: Python and PostgreSQL work at the same time. Returns the number of
    secondary-track links."""
    Through = Project.secondary_tracks.through
    links = []

    def rows():
        for chunk_rows, chunk_links, seconds in built:
            links.extend(chunk_links)
            phases.add("building rows (all processes)", seconds)
            yield from chunk_rows

    with connection.cursor() as cursor:
        _copy(cursor, Project._meta.db_table, CopyRows.columns(), rows())
        _copy(cursor, Through._meta.db_table, ["project_id", "track_id"], links)
    return len(links)


# --- Worker processes --------------------------------------------------------


def built_in_order(build_chunk, chunks, pool, ahead=4 * WORKERS):
    """build_chunk(chunk) for each of `chunks`, in order: in this process, or by `pool`'s
    processes with up to `ahead` chunks under way (they keep working while a batch is
    committed)."""
    if pool is None:
        yield from map(build_chunk, chunks)
        return
    chunks = iter(chunks)
    pending = collections.deque(pool.submit(build_chunk, chunk) for chunk in itertools.islice(chunks, ahead))
    while pending:
        result = pending.popleft().result()
        for chunk in itertools.islice(chunks, 1):
            pending.append(pool.submit(build_chunk, chunk))
        yield result


def row_builders():
    """WORKERS processes to build rows in, or None where fork is not available. Forked, they
    share what this process has loaded and never touch its database connection. They leave
    Ctrl-C to this process (which stops them), and if one dies the load fails instead of
    waiting for it."""
    if WORKERS < 2:
        return None
    try:
        context = multiprocessing.get_context("fork")
    except ValueError:
        return None
    return ProcessPoolExecutor(WORKERS, mp_context=context, initializer=_leave_interrupts)


def _leave_interrupts():
    signal.signal(signal.SIGINT, signal.SIG_IGN)


# --- Before and after a large load -------------------------------------------


def _before_large_load():
    """Drop the search index and stop keeping the public counts (registry/counts.py) for a
    large load: both are several times cheaper made once at the end than kept up to date
    batch by batch. Meanwhile the pages count afresh, as they do whenever the counts are
    not kept, so even an interrupted load leaves them right. Returns the counts' time zone,
    or None if they were not kept."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(DROP_INDEX_SQL)
        state = PublicCountState.objects.select_for_update().first()
        PublicCountState.objects.all().delete()
        PublicCount.objects.all().delete()
    return state.time_zone if state else None


def _after_large_load(counted_time_zone, phases):
    """Build the search index and, if they were kept, count the public projects afresh: each
    on its own connection at the same time (each is one PostgreSQL process's work, so on two
    cores this takes about as long as the longer of the two)."""
    failures = []

    def recount():
        start = time.perf_counter()
        try:
            counts.rebuild(counted_time_zone)
        except BaseException as error:  # raised again below, in the loading thread
            failures.append(error)
        finally:
            connection.close()  # this thread's own connection
            phases.add("public counts (meanwhile)", time.perf_counter() - start)

    thread = threading.Thread(target=recount) if counted_time_zone else None
    try:
        if thread:
            thread.start()
        with phases("search index"), connection.cursor() as cursor:
            cursor.execute(f"SET maintenance_work_mem = '{INDEX_MEMORY}'")  # this session only
            cursor.execute(CREATE_INDEX_SQL)
            cursor.execute("RESET maintenance_work_mem")
    finally:
        if thread:
            thread.join()
    if failures:
        raise failures[0]
