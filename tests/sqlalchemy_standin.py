"""What rework's users pass as the database, shaped as SQLAlchemy's objects are, for
the tests: jobconsole reads them by duck typing and does not depend on SQLAlchemy."""


class URL:
    def __init__(self, text):
        self._text = text
        self.drivername = text.partition("://")[0]

    def render_as_string(self, hide_password=True):
        if not hide_password:
            return self._text
        scheme, _, rest = self._text.partition("://")
        auth, at, host = rest.rpartition("@")
        if at and ":" in auth:
            auth = auth.split(":", 1)[0] + ":***"
        return f"{scheme}://{auth}{at}{host}"

    def __str__(self):      # as SQLAlchemy >= 1.4: the password hidden
        return self.render_as_string()


class Engine:
    def __init__(self, url):
        self.url = URL(url)


def create_engine(url):
    return Engine(url)
