"""The web pages (我的数据): server-rendered with Jinja2, and a little JavaScript for what has
to happen in the browser: keys, signatures and QR codes. A person's key is made and kept in
the browser (Ethereum keystore v3, unlocked with their password) or in a wallet the browser
already has; the server never receives it.

Pages call the same vault services as the API; a session is the API's own token, kept in an
HttpOnly cookie. ``install(app)`` adds them to the FastAPI app.
"""

from api.web.app import install

__all__ = ["install"]
