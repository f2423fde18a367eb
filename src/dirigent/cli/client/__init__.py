"""The client side of `dirigent`: commands that talk to a running server's REST API.

`http` is the only module that speaks HTTP (one aiohttp session per command, a sync facade for the
commands); `render` shows answers (tables, JSON, progress, errors); `command` gives every command its
connection options and error handling; one module per resource holds that resource's commands.
"""
