"""One call after every write that changes what the public sees: the page cache's version
moves (registry.pagecache), the download files are written again (registry.downloadfiles) and
the kept survival figures are forgotten (registry.survival),
both once the transaction commits. Signals call it for saves and deletes
(registry.signals); bulk writes that send no signals (queryset.update, bulk_create, COPY)
call it themselves."""

from registry import downloadfiles, pagecache, survival


def changed():
    pagecache.published_changed()
    downloadfiles.published_changed()
    survival.changed()
