"""The sign-in page and the same-origin bounce page: plain HTML, no script, no outside asset.

Both are served with a Content-Security-Policy that allows nothing but inline style and a
form posting to this origin, and neither page puts anything in it that came from the URL
except the escaped ``next`` path (already validated as a local path by the caller).
"""

from __future__ import annotations

from html import escape

SIGNIN_PATH = "/signin"
SIGNOUT_PATH = "/signout"

# Fixed texts chosen by a code in the URL: nothing a link author writes is shown to the person.
MESSAGES = {
    "invalid": "That token was not accepted.",
    "link": "Sign-in links opened from another site are not accepted: paste the token below.",
    "signed-out": "You are signed out.",
    "url-token": "Tokens in links are no longer accepted: paste the token below.",
}

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0;
       background: #f6f8fa; color: #1f2328; }
main { max-width: 380px; margin: 12vh auto; background: #fff; border: 1px solid #d0d7de;
       border-radius: 6px; padding: 24px; }
h1 { font-size: 20px; margin: 0 0 16px; }
label { display: block; font-size: 13px; color: #57606a; margin-bottom: 4px; }
input[type=password] { width: 100%; box-sizing: border-box; padding: 8px; font-size: 14px;
       border: 1px solid #d0d7de; border-radius: 6px; }
button { margin-top: 16px; padding: 8px 16px; font-size: 14px; border-radius: 6px;
         border: 1px solid #1f883d; background: #1f883d; color: #fff; cursor: pointer; }
.message { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px; padding: 8px;
           margin-bottom: 16px; font-size: 14px; }
.hint { font-size: 12px; color: #57606a; margin-top: 16px; }
"""

CSP = ("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")


def signin_page(next_path: str, reason: str | None) -> str:
    """The form: a token in, a session cookie out; ``next`` rides along in a hidden field."""
    message = MESSAGES.get(reason or "")
    notice = f'<p class="message" role="alert">{escape(message)}</p>' if message else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="referrer" content="same-origin">'
        f"<title>Sign in · finops</title><style>{STYLE}</style></head><body><main>"
        f"<h1>Sign in to finops</h1>{notice}"
        f'<form method="post" action="{SIGNIN_PATH}">'
        '<label for="token">Access token</label>'
        '<input id="token" name="token" type="password" autocomplete="current-password" '
        "required autofocus>"
        f'<input type="hidden" name="next" value="{escape(next_path)}">'
        '<button type="submit">Sign in</button></form>'
        '<p class="hint">Your finops administrator gives out tokens. '
        "Behind single sign-on you are signed in without one.</p>"
        "</main></body></html>"
    )


def bounce_page() -> str:
    """Ask the browser again for the same URL, now from this origin.

    A ``SameSite=Strict`` cookie is not sent on a navigation that starts on another site (a
    link in Slack); the refresh below starts on ours, so the session cookie comes along.
    """
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="refresh" content="0">'
        "<title>Opening… · finops</title></head><body>"
        '<p>Opening… <a href="">continue</a></p></body></html>'
    )


def signout_form() -> str:
    """The header's sign-out button (a POST: a link could be triggered by another site)."""
    return (f'<form method="post" action="{SIGNOUT_PATH}" class="signout">'
            '<button type="submit">Sign out</button></form>')
