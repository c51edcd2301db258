"""The archive: schema, database, command line and Datasette plugin."""
