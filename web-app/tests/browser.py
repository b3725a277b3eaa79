"""The user's browser in the tests: the web app's test client, following the redirects
through the fake identity provider as a browser would."""

import re
from urllib.parse import parse_qs, urlsplit


class Browser:
    """The user's browser: the web app's test client, following the redirect through the provider."""

    def __init__(self, client, idp):
        self.client = client
        self.idp = idp

    def start_login(self):
        response = self.client.get("/login")
        assert response.status_code == 302, response.text
        return response.headers["Location"]

    def authorize(self, location: str) -> str:
        """What the provider's /authorize answers: the callback URL with code and state."""
        parts = urlsplit(location)
        answer = self.idp.app.test_client().get(parts.path, query_string=parts.query)
        assert answer.status_code == 302
        return answer.headers["Location"]

    def callback(self, url: str):
        parts = urlsplit(url)
        return self.client.get(parts.path, query_string=parts.query)

    def log_in(self):
        response = self.callback(self.authorize(self.start_login()))
        assert response.status_code == 302, response.text
        assert response.headers["Location"] == "/", response.text
        return response

    def csrf_token(self, path: str = "/") -> str:
        page = self.client.get(path)
        match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert match, f"{path} has no form"
        return match.group(1)

    def post(self, path: str, **data):
        return self.client.post(path, data={"csrf_token": self.csrf_token(), **data})


def query_of(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}
