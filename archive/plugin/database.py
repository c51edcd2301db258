"""The archive database among those Datasette serves."""

from datasette import NotFound

PLUGIN_NAME = "zhenggai-archive"  # the distribution: Datasette serves our static/ under this name


async def archive_database(datasette):
    for name, database in datasette.databases.items():
        if name != "_internal" and await database.table_exists("documents"):
            return database
    raise NotFound("no archive database is served")


def document_path(datasette, document_id: str) -> str:
    return datasette.urls.path(f"/-/document/{document_id}")
